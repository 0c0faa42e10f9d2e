package io.remora.core.limits;

import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * A connection-rate limit as a generic cell rate algorithm: one {@link AtomicLong} (the theoretical arrival time of
 * the next connection), {@code perSecond} sustained with bursts of up to one second's worth. Lock-free: accepts
 * arrive on every event loop.
 */
final class AcceptRate {

    private final long intervalNanos;
    private final long burstNanos;
    private final LongSupplier clock;
    private final AtomicLong tat;

    AcceptRate(int perSecond, LongSupplier clock) {
        this.intervalNanos = 1_000_000_000L / perSecond;
        this.burstNanos = 1_000_000_000L;
        this.clock = clock;
        this.tat = new AtomicLong(clock.getAsLong());
    }

    /** True if one more connection may be accepted now (and counts it). */
    boolean tryAcquire() {
        long now = clock.getAsLong();
        while (true) {
            long t = tat.get();
            long base = Math.max(t, now);
            if (base - now > burstNanos) {
                return false;
            }
            if (tat.compareAndSet(t, base + intervalNanos)) {
                return true;
            }
        }
    }
}
