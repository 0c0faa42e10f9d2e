package io.remora.filters.rules;

import com.fasterxml.jackson.databind.JsonNode;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.remora.core.SidecarContext;
import io.remora.core.config.ConfigException;
import io.remora.filters.auth.AccessRule;
import io.remora.filters.auth.AccessState;
import io.remora.filters.circuitbreaker.BreakerGroup;
import io.remora.filters.circuitbreaker.CircuitBreakerRule;
import io.remora.filters.fault.FaultRule;
import io.remora.filters.fault.FaultState;
import io.remora.filters.ratelimit.RateLimitRule;
import io.remora.filters.ratelimit.RateLimiter;
import io.remora.filters.ratelimit.RateLimiters;
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
 * The governance state of one sidecar: the published rule set, and the run-time state of every rule (buckets,
 * breakers, counters) kept in a registry keyed by rule identity (kind + full content), so a rule that is unchanged
 * across a replacement keeps its state. Filters read {@link #active()} (one volatile read per request); publishing
 * swaps it whole.
 */
public final class Governance {

    private static final Map<SidecarContext, Governance> BY_SIDECAR = Collections.synchronizedMap(new WeakHashMap<>());

    private final SidecarContext sidecar;
    private final LongSupplier ticker;
    private final DoubleSupplier random;
    /** Guarded by this. */
    private final Map<String, ActiveRule> registry = new HashMap<>();
    /** Guarded by this: the meters registered per rule state. */
    private final Map<ActiveRule, List<Meter>> meters = new HashMap<>();
    private volatile ActiveRules active = ActiveRules.EMPTY;
    private volatile GovernanceRules rules = GovernanceRules.EMPTY;
    /** All rule states of the published set, in config order (kind by kind). */
    private volatile List<ActiveRule> all = List.of();

    Governance(SidecarContext sidecar, LongSupplier ticker, DoubleSupplier random) {
        this.sidecar = sidecar;
        this.ticker = Objects.requireNonNull(ticker, "ticker");
        this.random = Objects.requireNonNull(random, "random");
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

    /** A governance with an injected clock and random source (tests). */
    public static Governance create(SidecarContext sidecar, LongSupplier ticker, DoubleSupplier random) {
        return new Governance(sidecar, ticker, random);
    }

    public static void forget(SidecarContext sidecar) {
        BY_SIDECAR.remove(sidecar);
    }

    /** Governance filters take no config of their own: null or {@code {}}. */
    public static void checkFilterConfig(JsonNode config) throws ConfigException {
        if (config == null || config.isNull() || config.isMissingNode()) {
            return;
        }
        if (!config.isObject()) {
            throw new ConfigException("", "must be an object (the rules live in " + RuleParser.BASE_PATH + ")");
        }
        if (config.size() > 0) {
            throw new ConfigException(config.fieldNames().next(), "unknown field (the rules live in "
                    + RuleParser.BASE_PATH + ")");
        }
    }

    public ActiveRules active() {
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

    public List<ActiveRule> states() {
        return all;
    }

    SidecarContext sidecar() {
        return sidecar;
    }

    /**
     * Makes {@code next} the enforced rule set for a sidecar serving {@code localApp}. Rules whose identity was already
     * known keep their state; state of rules no longer present is dropped with its meters.
     */
    public synchronized void publish(GovernanceRules next, String localApp) {
        Map<String, Object> wanted = new LinkedHashMap<>();
        next.rateLimit().forEach(r -> wanted.put(r.scope().identity(), r));
        next.circuitBreaker().forEach(r -> wanted.put(r.scope().identity(), r));
        next.faultInject().forEach(r -> wanted.put(r.scope().identity(), r));
        next.accessControl().forEach(r -> wanted.put(r.scope().identity(), r));
        // Drop the state (and meters) of rules that are gone before registering meters of their replacements.
        for (var it = registry.entrySet().iterator(); it.hasNext(); ) {
            var e = it.next();
            if (!wanted.containsKey(e.getKey())) {
                unregister(e.getValue());
                it.remove();
            }
        }
        List<RateLimiter> rl = new ArrayList<>();
        List<BreakerGroup> cb = new ArrayList<>();
        List<FaultState> fi = new ArrayList<>();
        List<AccessState> ac = new ArrayList<>();
        List<ActiveRule> states = new ArrayList<>();
        for (Map.Entry<String, Object> e : wanted.entrySet()) {
            ActiveRule s = registry.get(e.getKey());
            if (s == null) {
                s = newState(e.getValue());
                registry.put(e.getKey(), s);
                register(s);
            }
            states.add(s);
            if (!s.scope().appliesTo(localApp)) {
                continue;
            }
            if (s instanceof RateLimiter x) {
                rl.add(x);
            } else if (s instanceof BreakerGroup x) {
                cb.add(x);
            } else if (s instanceof FaultState x) {
                fi.add(x);
            } else if (s instanceof AccessState x) {
                ac.add(x);
            }
        }
        this.active = new ActiveRules(smallestWins(rl), cb, fi, ac);
        this.all = List.copyOf(states);
        this.rules = next;
    }

    /** Among rate limits of the same traffic, type and mode, only the smallest limit is enforced. */
    private static List<RateLimiter> smallestWins(List<RateLimiter> rules) {
        Map<String, RateLimiter> smallest = new HashMap<>();
        for (RateLimiter r : rules) {
            String k = RateLimiters.groupKey(r);
            RateLimiter cur = smallest.get(k);
            if (cur == null || RateLimiters.limit(r) < RateLimiters.limit(cur)) {
                smallest.put(k, r);
            }
        }
        List<RateLimiter> out = new ArrayList<>();
        for (RateLimiter r : rules) {
            RateLimiter winner = smallest.get(RateLimiters.groupKey(r));
            if (winner == r) {
                r.shadowedBy(null);
                out.add(r);
            } else {
                r.shadowedBy(winner.scope().name());
            }
        }
        return out;
    }

    private ActiveRule newState(Object def) {
        if (def instanceof RateLimitRule r) {
            return new RateLimiter(r, ticker);
        } else if (def instanceof CircuitBreakerRule r) {
            return new BreakerGroup(r, ticker);
        } else if (def instanceof FaultRule r) {
            return new FaultState(r);
        }
        return new AccessState((AccessRule) def);
    }

    private void register(ActiveRule s) {
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
        if (s instanceof FaultState) {
            list.add(counter(m, kind, name, "injected", c, x -> x.injected.sum()));
        }
        if (s instanceof BreakerGroup g) {
            list.add(Gauge.builder("remora.governance.breakers.open", g, BreakerGroup::openCount)
                    .description("circuit breakers of the rule that are open or half-open")
                    .tags("rule", name).register(m));
        }
        if (s instanceof RateLimiter r) {
            list.add(Gauge.builder("remora.governance.concurrency", r, RateLimiter::concurrency)
                    .description("calls in flight admitted by the rate limit rule")
                    .tags("rule", name).register(m));
        }
        meters.put(s, list);
    }

    private static Meter counter(MeterRegistry m, String kind, String name, String outcome, RuleCounters c,
                                 ToDoubleFunction<RuleCounters> f) {
        return FunctionCounter.builder("remora.governance.rule.requests", c, f)
                .description("calls seen by a governance rule, by outcome")
                .tags("kind", kind, "rule", name, "outcome", outcome)
                .register(m);
    }

    private void unregister(ActiveRule s) {
        List<Meter> list = meters.remove(s);
        if (list != null && sidecar != null) {
            list.forEach(sidecar.metrics()::remove);
        }
    }

    /** Drops every rule state and meter (sidecar stop). */
    public synchronized void clear() {
        registry.values().forEach(this::unregister);
        registry.clear();
        active = ActiveRules.EMPTY;
        all = List.of();
        rules = GovernanceRules.EMPTY;
    }
}
