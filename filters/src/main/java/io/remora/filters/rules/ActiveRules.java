package io.remora.filters.rules;

import io.remora.core.filter.Direction;
import io.remora.filters.auth.AccessState;
import io.remora.filters.circuitbreaker.BreakerGroup;
import io.remora.filters.fault.FaultState;
import io.remora.filters.ratelimit.RateLimiter;
import java.util.List;

/** The enforced rules of one published rule set, indexed per kind and direction. Immutable. */
public final class ActiveRules {

    static final ActiveRules EMPTY = new ActiveRules(List.of(), List.of(), List.of(), List.of());

    private final RuleIndex<RateLimiter>[] rateLimit;
    private final RuleIndex<BreakerGroup>[] circuitBreaker;
    private final RuleIndex<FaultState>[] faultInject;
    private final RuleIndex<AccessState>[] accessControl;

    ActiveRules(List<RateLimiter> rl, List<BreakerGroup> cb, List<FaultState> fi, List<AccessState> ac) {
        rateLimit = split(rl, RateLimiter[]::new);
        circuitBreaker = split(cb, BreakerGroup[]::new);
        faultInject = split(fi, FaultState[]::new);
        accessControl = split(ac, AccessState[]::new);
    }

    @SuppressWarnings("unchecked")
    private static <T extends ActiveRule> RuleIndex<T>[] split(List<T> rules,
                                                                java.util.function.IntFunction<T[]> arrays) {
        RuleIndex<T>[] out = new RuleIndex[Direction.values().length];
        for (Direction d : Direction.values()) {
            out[d.ordinal()] = RuleIndex.of(rules.stream().filter(r -> r.scope().direction() == d).toList(), arrays);
        }
        return out;
    }

    public RuleIndex<RateLimiter> rateLimit(Direction d) {
        return rateLimit[d.ordinal()];
    }

    public RuleIndex<BreakerGroup> circuitBreaker(Direction d) {
        return circuitBreaker[d.ordinal()];
    }

    public RuleIndex<FaultState> faultInject(Direction d) {
        return faultInject[d.ordinal()];
    }

    public RuleIndex<AccessState> accessControl(Direction d) {
        return accessControl[d.ordinal()];
    }
}
