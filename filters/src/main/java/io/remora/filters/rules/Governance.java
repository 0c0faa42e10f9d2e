package io.remora.filters.rules;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.remora.core.SidecarContext;
import io.remora.core.filter.Direction;
import io.remora.core.filter.StreamFilter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.WeakHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.DoubleSupplier;
import java.util.function.LongSupplier;
import java.util.function.ToDoubleFunction;

/**
 * The governance state of one sidecar: its rule kinds, the published rule set, and the run-time state of every rule
 * (buckets, breakers, counters) kept in a registry keyed by rule identity (kind + full content), so a rule that is
 * unchanged across a replacement keeps its state. Filters read {@link #active()} (one volatile read per request);
 * publishing (config thread, synchronized) swaps it whole.
 */
public final class Governance {

    private static final Map<SidecarContext, Governance> BY_SIDECAR = Collections.synchronizedMap(new WeakHashMap<>());

    private final SidecarContext sidecar;
    private final RuleKinds kinds;
    private final LongSupplier ticker;
    private final DoubleSupplier random;
    /** Guarded by this. */
    private final Map<String, ActiveRule<?>> registry = new HashMap<>();
    /** Guarded by this: the meters registered per rule state. */
    private final Map<ActiveRule<?>, List<Meter>> meters = new HashMap<>();
    private volatile ActiveRules active;
    private volatile GovernanceRules rules;
    /** All rule states of the published set, in config order (kind by kind). */
    private volatile List<ActiveRule<?>> all = List.of();

    Governance(SidecarContext sidecar, RuleKinds kinds, LongSupplier ticker, DoubleSupplier random) {
        this.sidecar = sidecar;
        this.kinds = Objects.requireNonNull(kinds, "kinds");
        this.ticker = Objects.requireNonNull(ticker, "ticker");
        this.random = Objects.requireNonNull(random, "random");
        this.active = ActiveRules.empty(kinds.all().size());
        this.rules = GovernanceRules.empty(kinds);
    }

    /** The governance of {@code sidecar}, created on first use (null: a detached one, for config validation). */
    public static Governance of(SidecarContext sidecar) {
        if (sidecar == null) {
            return create(null, System::nanoTime, () -> ThreadLocalRandom.current().nextDouble());
        }
        synchronized (BY_SIDECAR) {
            return BY_SIDECAR.computeIfAbsent(sidecar,
                    s -> create(s, System::nanoTime, () -> ThreadLocalRandom.current().nextDouble()));
        }
    }

    /** A governance with an injected clock and random source (tests), and the kinds on the class path. */
    public static Governance create(SidecarContext sidecar, LongSupplier ticker, DoubleSupplier random) {
        return new Governance(sidecar, RuleKinds.load(), ticker, random);
    }

    public static void forget(SidecarContext sidecar) {
        BY_SIDECAR.remove(sidecar);
    }

    ActiveRules active() {
        return active;
    }

    public GovernanceRules rules() {
        return rules;
    }

    public DoubleSupplier random() {
        return random;
    }

    public LongSupplier ticker() {
        return ticker;
    }

    public RuleKinds kinds() {
        return kinds;
    }

    public List<ActiveRule<?>> states() {
        return all;
    }

    /** The filter applying {@code kind}'s rules on listeners of {@code direction} (config thread; tests). */
    public StreamFilter filter(String kind, Direction direction) {
        int k = kinds.names().indexOf(kind);
        if (k < 0) {
            throw new IllegalStateException("rule kind " + kind + " is not listed in "
                    + "META-INF/services/" + RuleKind.class.getName());
        }
        return new GovernanceFilter<>(kinds.all().get(k), this, ActiveRules.slot(k, direction));
    }

    /**
     * Makes {@code next} the enforced rule set for a sidecar serving {@code localApp}. Rules whose identity was already
     * known keep their state; state of rules no longer present is dropped with its meters.
     */
    public synchronized void publish(GovernanceRules next, String localApp) {
        Map<String, RuleConfig> wanted = new LinkedHashMap<>();
        for (String kind : kinds.names()) {
            next.rules(kind).forEach(r -> wanted.put(r.scope().identity(), r));
        }
        // Drop the state (and meters) of rules that are gone before registering meters of their replacements.
        for (var it = registry.entrySet().iterator(); it.hasNext(); ) {
            var e = it.next();
            if (!wanted.containsKey(e.getKey())) {
                unregister(e.getValue());
                it.remove();
            }
        }
        List<List<ActiveRule<?>>> applying = new ArrayList<>();
        for (int k = 0; k < kinds.all().size(); k++) {
            applying.add(new ArrayList<>());
        }
        List<ActiveRule<?>> states = new ArrayList<>();
        for (Map.Entry<String, RuleConfig> e : wanted.entrySet()) {
            ActiveRule<?> s = registry.get(e.getKey());
            int k = kinds.names().indexOf(e.getValue().scope().kind());
            if (s == null) {
                s = kinds.all().get(k).activateUnchecked(e.getValue(), this);
                registry.put(e.getKey(), s);
                register(s);
            }
            states.add(s);
            if (s.scope().appliesTo(localApp)) {
                applying.get(k).add(s);
            }
        }
        this.active = ActiveRules.of(kinds.all(), applying);
        this.all = List.copyOf(states);
        this.rules = next;
    }

    private void register(ActiveRule<?> s) {
        if (sidecar == null || sidecar.metrics() == null) {
            return;
        }
        MeterRegistry m = sidecar.metrics();
        RuleCounters c = s.counters();
        String kind = s.scope().kind();
        String name = s.scope().name();
        List<Meter> list = new ArrayList<>();
        list.add(counter(m, kind, name, "passed", c, x -> x.passed.sum()));
        list.add(counter(m, kind, name, "rejected", c, x -> x.rejected.sum()));
        list.add(counter(m, kind, name, "observed_rejected", c, x -> x.observed.sum()));
        if (s.kind().injects()) {
            list.add(counter(m, kind, name, "injected", c, x -> x.injected.sum()));
        }
        s.kind().metersUnchecked(s, m, list);
        meters.put(s, list);
    }

    private static Meter counter(MeterRegistry m, String kind, String name, String outcome, RuleCounters c,
                                 ToDoubleFunction<RuleCounters> f) {
        return FunctionCounter.builder("remora.governance.rule.requests", c, f)
                .description("calls seen by a governance rule, by outcome")
                .tags("kind", kind, "rule", name, "outcome", outcome)
                .register(m);
    }

    private void unregister(ActiveRule<?> s) {
        List<Meter> list = meters.remove(s);
        if (list != null && sidecar != null) {
            list.forEach(sidecar.metrics()::remove);
        }
    }

    /** Drops every rule state and meter (sidecar stop). */
    public synchronized void clear() {
        registry.values().forEach(this::unregister);
        registry.clear();
        active = ActiveRules.empty(kinds.all().size());
        all = List.of();
        rules = GovernanceRules.empty(kinds);
    }
}
