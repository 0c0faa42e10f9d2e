package io.remora.filters.ratelimit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class TokenBucketTest {

    private final AtomicLong now = new AtomicLong(-5_000_000_000L);

    private int drain(TokenBucket b) {
        int n = 0;
        while (b.tryAcquire()) {
            n++;
            if (n > 1_000_000) {
                throw new AssertionError("bucket never empties");
            }
        }
        return n;
    }

    @Test
    void startsFullWithThresholdTokensAndRejectsWhenBucketEmpty() {
        TokenBucket b = new TokenBucket(10, 1000, 10, now::get);
        assertEquals(10, b.available());
        assertEquals(10, drain(b));
        assertFalse(b.tryAcquire());
        assertEquals(0, b.available());
    }

    @Test
    void refillsAtThresholdPerUnit() {
        TokenBucket b = new TokenBucket(10, 1000, 10, now::get);
        drain(b);
        now.addAndGet(99_000_000L);
        assertFalse(b.tryAcquire());
        now.addAndGet(1_000_000L);
        assertTrue(b.tryAcquire());
        assertFalse(b.tryAcquire());
        now.addAndGet(500_000_000L);
        assertEquals(5, drain(b));
    }

    @Test
    void neverHoldsMoreThanCapacity() {
        TokenBucket b = new TokenBucket(10, 1000, 10, now::get);
        now.addAndGet(60_000_000_000L);
        assertEquals(10, drain(b));
    }

    @Test
    void bucketCoefficientScalesCapacityNotRate() {
        RateLimitRule r = new RateLimitRule(null, false, 10, 1000, 2.5);
        TokenBucket b = new TokenBucket(10, 1000, r.capacity(), now::get);
        assertEquals(25, drain(b));
        now.addAndGet(1_000_000_000L);
        assertEquals(10, drain(b));
    }

    @Test
    void unitTimeIsConfigurable() {
        TokenBucket b = new TokenBucket(5, 100, 5, now::get);
        assertEquals(5, drain(b));
        now.addAndGet(100_000_000L);
        assertEquals(5, drain(b));
        now.addAndGet(20_000_000L);
        assertEquals(1, drain(b));
    }

    @Test
    void capacityIsAtLeastOneToken() {
        RateLimitRule r = new RateLimitRule(null, false, 1, 1000, 0.1);
        assertEquals(1.0, r.capacity());
        TokenBucket b = new TokenBucket(1, 1000, r.capacity(), now::get);
        assertEquals(1, drain(b));
    }
}
