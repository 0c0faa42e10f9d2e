package io.remora.filters.rules;

import io.remora.core.filter.Direction;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The enforced rules of one published rule set: one {@link RuleIndex} per kind and direction, in a flat array a
 * filter reads at its fixed slot. Immutable; replaced whole on publish.
 */
final class ActiveRules {

    private static final Direction[] DIRECTIONS = Direction.values();

    private final RuleIndex[] indexes;

    private ActiveRules(RuleIndex[] indexes) {
        this.indexes = indexes;
    }

    /** No rules, for {@code kinds} kinds. */
    static ActiveRules empty(int kinds) {
        RuleIndex[] idx = new RuleIndex[kinds * DIRECTIONS.length];
        Arrays.fill(idx, RuleIndex.EMPTY);
        return new ActiveRules(idx);
    }

    /** Indexes the rules of each kind ({@code applying.get(k)}: kind k's rules for this sidecar, config order). */
    static ActiveRules of(List<RuleKind<?, ?>> kinds, List<List<ActiveRule<?>>> applying) {
        RuleIndex[] idx = new RuleIndex[kinds.size() * DIRECTIONS.length];
        for (int k = 0; k < kinds.size(); k++) {
            List<ActiveRule<?>> enforced = kinds.get(k).enforcedUnchecked(applying.get(k));
            for (Direction d : DIRECTIONS) {
                List<ActiveRule<?>> mine = new ArrayList<>();
                for (ActiveRule<?> r : enforced) {
                    if (r.scope().direction() == d) {
                        mine.add(r);
                    }
                }
                idx[slot(k, d)] = RuleIndex.of(mine);
            }
        }
        return new ActiveRules(idx);
    }

    static int slot(int kind, Direction d) {
        return kind * DIRECTIONS.length + d.ordinal();
    }

    /** The rules of the kind and direction at {@code slot} for {@code service}, or null when there are none. */
    RuleIndex.Methods forService(int slot, String service) {
        return indexes[slot].forService(service);
    }
}
