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

    /** The sums now. */
    public Counts counts() {
        return new Counts(passed.sum(), rejected.sum(), observed.sum(), completed.sum(), exceptions.sum(),
                rtNanos.sum(), injected.sum());
    }

    /** The counters' sums at one instant; the per-second logs write the difference of two. */
    public record Counts(long passed, long rejected, long observed, long completed, long exceptions, long rtNanos,
                         long injected) {

        public Counts minus(Counts o) {
            return new Counts(passed - o.passed, rejected - o.rejected, observed - o.observed, completed - o.completed,
                    exceptions - o.exceptions, rtNanos - o.rtNanos, injected - o.injected);
        }

        public boolean any() {
            return passed != 0 || rejected != 0 || observed != 0 || completed != 0 || exceptions != 0 || rtNanos != 0
                    || injected != 0;
        }
    }
}
