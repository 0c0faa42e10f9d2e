package io.remora.core.cluster;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Calls and errors of one host in one-second buckets over the last {@link #SLOTS} seconds. Lock-free: a bucket is
 * claimed for a new second by CAS on its stamp and then reset; a count racing with the reset may be lost, which is
 * noise at the edge of a second and fine for an error ratio.
 */
final class OutlierWindow {

    static final int SLOTS = 64;

    /** Second (nanos / 1e9) each slot currently counts. */
    private final AtomicLongArray stamps = new AtomicLongArray(SLOTS);
    /** [2i] = calls, [2i+1] = errors. */
    private final AtomicLongArray counts = new AtomicLongArray(SLOTS * 2);

    OutlierWindow() {
        for (int i = 0; i < SLOTS; i++) {
            stamps.set(i, Long.MIN_VALUE);
        }
    }

    void record(boolean success, long nowNanos) {
        long sec = Math.floorDiv(nowNanos, 1_000_000_000L);
        int slot = (int) Math.floorMod(sec, SLOTS);
        long stamp = stamps.get(slot);
        if (stamp != sec) {
            if (stamps.compareAndSet(slot, stamp, sec)) {
                counts.set(2 * slot, 0);
                counts.set(2 * slot + 1, 0);
            }
        }
        counts.incrementAndGet(2 * slot);
        if (!success) {
            counts.incrementAndGet(2 * slot + 1);
        }
    }

    /** {calls, errors} over the last {@code seconds} seconds including the current one. */
    long[] sum(int seconds, long nowNanos) {
        long sec = Math.floorDiv(nowNanos, 1_000_000_000L);
        long calls = 0;
        long errors = 0;
        for (int i = 0; i < SLOTS; i++) {
            long stamp = stamps.get(i);
            if (stamp <= sec && stamp > sec - seconds) {
                calls += counts.get(2 * i);
                errors += counts.get(2 * i + 1);
            }
        }
        return new long[] {calls, errors};
    }
}
