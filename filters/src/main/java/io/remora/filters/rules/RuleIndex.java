package io.remora.filters.rules;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The enforced rules of one kind and direction, looked up by service, then method, in O(1): each named service (and
 * each method named under it) gets the array of the rules covering it, its own and the {@code *} ones, in config order;
 * anything not named gets the {@code *} rules. Immutable.
 */
final class RuleIndex {

    static final ActiveRule<?>[] NONE = new ActiveRule<?>[0];
    static final RuleIndex EMPTY = of(List.of());

    private final Map<String, Methods> byService;
    /** Null when no rule is for any service. */
    private final Methods anyService;

    private RuleIndex(Map<String, Methods> byService, Methods anyService) {
        this.byService = byService;
        this.anyService = anyService;
    }

    /** The rules of one service, by method. */
    record Methods(Map<String, ActiveRule<?>[]> byMethod, ActiveRule<?>[] anyMethod) {

        /** The rules that may apply to a call of {@code method}, in config order; never null. */
        ActiveRule<?>[] candidates(String method) {
            ActiveRule<?>[] r = method == null ? null : byMethod.get(method);
            return r != null ? r : anyMethod;
        }
    }

    static RuleIndex of(List<ActiveRule<?>> rules) {
        Map<String, Methods> byService = covering(rules, RuleScope::service, RuleIndex::methods);
        Methods any = byService.remove(RuleScope.ANY);
        return new RuleIndex(byService, any.byMethod().isEmpty() && any.anyMethod().length == 0 ? null : any);
    }

    private static Methods methods(List<ActiveRule<?>> rules) {
        Map<String, ActiveRule<?>[]> byMethod = covering(rules, RuleScope::method, l -> l.toArray(NONE));
        return new Methods(byMethod, byMethod.remove(RuleScope.ANY));
    }

    /**
     * For each value of {@code field} the rules name, and for {@code *}: the rules whose field is that value or
     * {@code *}, in config order, built into a {@code V}. Linear in rules plus values times {@code *} rules.
     */
    private static <V> Map<String, V> covering(List<ActiveRule<?>> rules, Function<RuleScope, String> field,
                                               Function<List<ActiveRule<?>>, V> build) {
        Map<String, List<ActiveRule<?>>> lists = new HashMap<>();
        lists.put(RuleScope.ANY, new ArrayList<>());
        for (ActiveRule<?> r : rules) {
            lists.putIfAbsent(field.apply(r.scope()), new ArrayList<>());
        }
        for (ActiveRule<?> r : rules) {
            String f = field.apply(r.scope());
            if (RuleScope.ANY.equals(f)) {
                lists.values().forEach(l -> l.add(r));
            } else {
                lists.get(f).add(r);
            }
        }
        Map<String, V> out = new HashMap<>(lists.size() * 2);
        lists.forEach((v, l) -> out.put(v, build.apply(l)));
        return out;
    }

    /** The rules for {@code service}, or null when none are (so the call's method need not even be read). */
    Methods forService(String service) {
        Methods m = service == null ? null : byService.get(service);
        return m != null ? m : anyService;
    }
}
