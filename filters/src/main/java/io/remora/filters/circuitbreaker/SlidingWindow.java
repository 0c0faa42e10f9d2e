package io.remora.filters.circuitbreaker;

import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * Call counts over the last {@code window}, in {@value #BUCKETS} buckets. Recording adds to striped counters of the
 * current bucket; a bucket whose period has passed is replaced by CAS (one allocation per bucket period).
 */
final class SlidingWindow {

    static final int BUCKETS = 10;

    private static final class Bucket {
        final long number;
        final LongAdder calls = new LongAdder();
        final LongAdder errors = new LongAdder();
        final LongAdder rtNanos = new LongAdder();

        Bucket(long number) {
            this.number = number;
        }
    }

    /** Sums over the window at one instant. */
    record Counts(long calls, long errors, long rtNanos) {
        double errorRatio() {
            return calls == 0 ? 0 : (double) errors / calls;
        }

        long avgRtNanos() {
            return calls == 0 ? 0 : rtNanos / calls;
        }
    }

    private final long bucketNanos;
    private final AtomicReferenceArray<Bucket> buckets = new AtomicReferenceArray<>(BUCKETS);

    SlidingWindow(long windowNanos) {
        this.bucketNanos = Math.max(1, windowNanos / BUCKETS);
    }

    void record(long now, boolean error, long rtNanos) {
        Bucket b = current(now);
        b.calls.increment();
        if (error) {
            b.errors.increment();
        }
        b.rtNanos.add(rtNanos);
    }

    private Bucket current(long now) {
        long number = Math.floorDiv(now, bucketNanos);
        int i = (int) Math.floorMod(number, BUCKETS);
        for (;;) {
            Bucket b = buckets.get(i);
            if (b != null && b.number >= number) {
                return b;
            }
            Bucket fresh = new Bucket(number);
            if (buckets.compareAndSet(i, b, fresh)) {
                return fresh;
            }
        }
    }

    Counts counts(long now) {
        long number = Math.floorDiv(now, bucketNanos);
        long calls = 0;
        long errors = 0;
        long rt = 0;
        for (int i = 0; i < BUCKETS; i++) {
            Bucket b = buckets.get(i);
            if (b != null && b.number > number - BUCKETS && b.number <= number) {
                calls += b.calls.sum();
                errors += b.errors.sum();
                rt += b.rtNanos.sum();
            }
        }
        return new Counts(calls, errors, rt);
    }
}
