package io.remora.filters.rules;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * The rules of one kind and direction, looked up by service in O(1): each named service gets the array of rules for
 * it and for {@code *}, in config order; other services get the {@code *} rules.
 */
public final class RuleIndex<T extends ActiveRule> {

    private final Map<String, T[]> byService;
    private final T[] anyService;
    private final int size;

    private RuleIndex(Map<String, T[]> byService, T[] anyService, int size) {
        this.byService = byService;
        this.anyService = anyService;
        this.size = size;
    }

    public static <T extends ActiveRule> RuleIndex<T> of(List<T> rules, IntFunction<T[]> arrays) {
        Map<String, List<T>> lists = new LinkedHashMap<>();
        List<T> any = new ArrayList<>();
        for (T r : rules) {
            if (!RuleScope.ANY.equals(r.scope().service())) {
                lists.putIfAbsent(r.scope().service(), new ArrayList<>());
            }
        }
        for (T r : rules) {
            String s = r.scope().service();
            if (RuleScope.ANY.equals(s)) {
                any.add(r);
                lists.values().forEach(l -> l.add(r));
            } else {
                lists.get(s).add(r);
            }
        }
        Map<String, T[]> by = new HashMap<>();
        lists.forEach((k, v) -> by.put(k, v.toArray(arrays.apply(0))));
        return new RuleIndex<>(by, any.toArray(arrays.apply(0)), rules.size());
    }

    /** The rules that may apply to {@code service}, in config order; never null. */
    public T[] candidates(String service) {
        if (service != null) {
            T[] r = byService.get(service);
            if (r != null) {
                return r;
            }
        }
        return anyService;
    }

    public boolean isEmpty() {
        return size == 0;
    }
}
