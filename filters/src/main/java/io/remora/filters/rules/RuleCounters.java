package io.remora.filters.rules;

import java.util.concurrent.atomic.LongAdder;

/** Cumulative per-rule counters, shared by all event loops (striped, no contention on the hot path). */
public final class RuleCounters {

    public final LongAdder passed = new LongAdder();
    public final LongAdder rejected = new LongAdder();
    /** Observe mode: the rule would have rejected (or injected), but the call went on unchanged. */
    public final LongAdder observed = new LongAdder();
    public final LongAdder injected = new LongAdder();
    public final LongAdder completed = new LongAdder();
    public final LongAdder exceptions = new LongAdder();
    public final LongAdder rtNanos = new LongAdder();
}
