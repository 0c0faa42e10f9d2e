package io.remora.filters.ratelimit;

import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * A lock-free token bucket kept as one number: the time at which the bucket will be full again ("theoretical arrival
 * time", GCRA). Taking a token moves it one refill interval later; a call is refused when that would put it more than
 * {@code capacity} intervals ahead of now. Equivalent to a bucket of {@code capacity} tokens refilled at one token per
 * interval, starting full, and shared by every event loop through one CAS.
 */
final class TokenBucket {

    private final LongSupplier ticker;
    private final long intervalNanos;
    private final long burstNanos;
    private final AtomicLong fullAt;

    TokenBucket(long threshold, long unitMs, double capacity, LongSupplier ticker) {
        this.ticker = ticker;
        this.intervalNanos = Math.max(1, Math.round(unitMs * 1_000_000.0 / threshold));
        this.burstNanos = (long) Math.min(Long.MAX_VALUE / 4, Math.floor(capacity) * intervalNanos);
        this.fullAt = new AtomicLong(ticker.getAsLong());
    }

    boolean tryAcquire() {
        long now = ticker.getAsLong();
        for (;;) {
            long t = fullAt.get();
            long next = Math.max(t, now) + intervalNanos;
            if (next - now > burstNanos) {
                return false;
            }
            if (fullAt.compareAndSet(t, next)) {
                return true;
            }
        }
    }

    /** Puts back a token taken by {@link #tryAcquire} for a call that did not go ahead. */
    void refund() {
        fullAt.addAndGet(-intervalNanos);
    }

    /** Whole tokens available now. */
    long available() {
        long now = ticker.getAsLong();
        long debt = Math.max(fullAt.get(), now) - now;
        return (burstNanos - debt) / intervalNanos;
    }
}
