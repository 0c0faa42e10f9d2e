package io.remora.core.cluster;

import java.util.concurrent.atomic.AtomicLong;

/** A per-cluster counter bumped on every health change, so host sets know when to rebuild their healthy view. */
final class HealthEpoch {

    private final AtomicLong value = new AtomicLong();

    long get() {
        return value.get();
    }

    void bump() {
        value.incrementAndGet();
    }
}
