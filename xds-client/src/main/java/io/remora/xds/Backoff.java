package io.remora.xds;

import java.util.function.LongUnaryOperator;

/** Exponential backoff with full jitter: attempt n waits uniformly in [0, min(max, base * 2^n)). */
final class Backoff {

    private final long baseMillis;
    private final long maxMillis;
    /** Given a bound, returns a value in [0, bound); injected so tests need no randomness. */
    private final LongUnaryOperator random;
    private int attempt;

    Backoff(long baseMillis, long maxMillis, LongUnaryOperator random) {
        this.baseMillis = baseMillis;
        this.maxMillis = maxMillis;
        this.random = random;
    }

    /** The bound of the next wait, before jitter. */
    long ceilingMillis() {
        return Math.min(maxMillis, baseMillis << Math.min(attempt, 30));
    }

    long nextDelayMillis() {
        long ceiling = ceilingMillis();
        attempt++;
        return random.applyAsLong(ceiling);
    }

    void reset() {
        attempt = 0;
    }

    int attempt() {
        return attempt;
    }
}
