package io.remora.filters.rules;

import io.remora.core.filter.FilterStatus;
import io.remora.core.filter.RequestContext;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.ToDoubleFunction;

/**
 * How the rules covering one call decide it together: one strategy per kind, stateless, shared by all event loops.
 * {@link #enforced} runs when rules are published (publishing thread); {@link #apply} runs on the request's event loop
 * for each call with candidate rules (those of the call's service and method, in config order). Policies match each
 * rule's conditions at most once per call, apply the mode (an observe rule's refusal only counts {@code observed}) and
 * keep the counters: {@code passed} for every rule that let the call through once the filter lets it through,
 * {@code rejected} (or {@code injected}) for the intercept rule that refused it.
 */
public abstract class Policy<S extends ActiveRule<?>> {

    Policy() {
    }

    /** Every matching rule decides; the first intercept refusal refuses the call and releases what the others took. */
    public static <S extends ActiveRule<?>> Policy<S> everyMatch() {
        return new Matching<>(false);
    }

    /**
     * Every match, where among the rules for the same traffic ({@code sameTraffic} keys equal) only the one with the
     * smallest {@code limit} is enforced; the others are marked shadowed by it.
     */
    public static <S extends ActiveRule<?>> Policy<S> smallestWins(Function<S, String> sameTraffic,
                                                                   ToDoubleFunction<S> limit) {
        return new SmallestWins<>(sameTraffic, limit);
    }

    /** Only the first matching rule (config order) decides, whatever its decision. */
    public static <S extends ActiveRule<?>> Policy<S> firstMatch() {
        return new Matching<>(true);
    }

    /**
     * Allow and deny lists, each mode on its own: a deny-list rule refuses the callers its conditions match; allow-list
     * rules ({@code allowList} true) refuse every caller none of them matches (the first one is named). Matching is the
     * decision ({@link RuleKind#decide} is not asked). When the call goes on, every candidate counts it passed.
     */
    public static <S extends ActiveRule<?>> Policy<S> allowDenyList(Predicate<S> allowList) {
        return new AllowDenyList<>(allowList);
    }

    /** The rules to enforce among those published for this sidecar, in config order. */
    List<S> enforced(List<S> applying) {
        return applying;
    }

    abstract FilterStatus apply(GovernanceFilter<?, S> filter, S[] candidates, RequestContext ctx);

    private static class Matching<S extends ActiveRule<?>> extends Policy<S> {

        private final boolean firstOnly;

        Matching(boolean firstOnly) {
            this.firstOnly = firstOnly;
        }

        @Override
        FilterStatus apply(GovernanceFilter<?, S> filter, S[] candidates, RequestContext ctx) {
            Permit first = null;
            Permit[] more = null;
            int n = 0;
            for (S r : candidates) {
                if (!r.scope().conditions().matches(ctx)) {
                    continue;
                }
                Permit p = filter.decide(r, ctx);
                if (p.refused) {
                    if (!r.scope().observe()) {
                        for (int i = 0; i < n; i++) {
                            (i == 0 ? first : more[i]).release();
                        }
                        return filter.refuse(r, ctx);
                    }
                    r.counters().observed.increment();
                }
                if (first == null) {
                    first = p;
                } else {
                    if (more == null) {
                        // Several rules let this call through: the one allocation, only then.
                        more = new Permit[candidates.length];
                        more[0] = first;
                    }
                    more[n] = p;
                }
                n++;
                if (firstOnly) {
                    break;
                }
            }
            boolean holds = false;
            for (int i = 0; i < n; i++) {
                Permit p = i == 0 ? first : more[i];
                p.rule.counters().passed.increment();
                holds |= p.holds();
            }
            if (holds) {
                ctx.setFilterState(filter, more != null ? more : first);
            }
            return FilterStatus.CONTINUE;
        }
    }

    private static final class SmallestWins<S extends ActiveRule<?>> extends Matching<S> {

        private final Function<S, String> sameTraffic;
        private final ToDoubleFunction<S> limit;

        SmallestWins(Function<S, String> sameTraffic, ToDoubleFunction<S> limit) {
            super(false);
            this.sameTraffic = sameTraffic;
            this.limit = limit;
        }

        @Override
        List<S> enforced(List<S> applying) {
            Map<String, S> smallest = new HashMap<>();
            for (S r : applying) {
                String k = sameTraffic.apply(r);
                S cur = smallest.get(k);
                if (cur == null || limit.applyAsDouble(r) < limit.applyAsDouble(cur)) {
                    smallest.put(k, r);
                }
            }
            List<S> out = new ArrayList<>();
            for (S r : applying) {
                S winner = smallest.get(sameTraffic.apply(r));
                if (winner == r) {
                    r.shadowedBy(null);
                    out.add(r);
                } else {
                    r.shadowedBy(winner.scope().name());
                }
            }
            return out;
        }
    }

    private static final class AllowDenyList<S extends ActiveRule<?>> extends Policy<S> {

        private final Predicate<S> allowList;

        AllowDenyList(Predicate<S> allowList) {
            this.allowList = allowList;
        }

        @Override
        FilterStatus apply(GovernanceFilter<?, S> filter, S[] candidates, RequestContext ctx) {
            S denied = verdict(candidates, ctx, false);
            S wouldDeny = verdict(candidates, ctx, true);
            if (wouldDeny != null) {
                wouldDeny.counters().observed.increment();
            }
            if (denied != null) {
                return filter.refuse(denied, ctx);
            }
            for (S r : candidates) {
                r.counters().passed.increment();
            }
            return FilterStatus.CONTINUE;
        }

        /** The rule that refuses the call among the rules of one mode, or null if they let it through. */
        private S verdict(S[] candidates, RequestContext ctx, boolean observe) {
            S firstAllowList = null;
            boolean allowed = false;
            for (S r : candidates) {
                RuleScope s = r.scope();
                if (s.observe() != observe) {
                    continue;
                }
                if (allowList.test(r)) {
                    if (firstAllowList == null) {
                        firstAllowList = r;
                    }
                    if (!allowed && s.conditions().matches(ctx)) {
                        allowed = true;
                    }
                } else if (s.conditions().matches(ctx)) {
                    return r;
                }
            }
            return firstAllowList != null && !allowed ? firstAllowList : null;
        }
    }
}
