package io.remora.filters.rules;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.ServiceLoader;

/**
 * The rule kinds of one sidecar, in the order of the rule document: every {@link RuleKind} listed in
 * {@code META-INF/services/io.remora.filters.rules.RuleKind} on the class path of the thread's context class loader
 * (as the core loads its plugins). Immutable.
 */
public final class RuleKinds {

    private final List<RuleKind<?, ?>> all;
    private final List<String> names;

    private RuleKinds(List<RuleKind<?, ?>> all) {
        this.all = List.copyOf(all);
        this.names = all.stream().map(RuleKind::name).toList();
        if (new HashSet<>(names).size() != names.size()) {
            throw new IllegalStateException("rule kinds with the same name: " + names);
        }
    }

    public static RuleKinds load() {
        List<RuleKind<?, ?>> found = new ArrayList<>();
        for (RuleKind<?, ?> k : ServiceLoader.load(RuleKind.class)) {
            found.add(k);
        }
        return new RuleKinds(found);
    }

    public List<RuleKind<?, ?>> all() {
        return all;
    }

    /** The kinds' names, in document order. */
    public List<String> names() {
        return names;
    }

    /** The kind named {@code name}, or null. */
    public RuleKind<?, ?> named(String name) {
        int i = names.indexOf(name);
        return i < 0 ? null : all.get(i);
    }
}
