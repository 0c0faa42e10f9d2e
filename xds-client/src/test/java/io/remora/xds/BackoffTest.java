package io.remora.xds;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class BackoffTest {

    @Test
    void doublesFromHalfASecondUpToThirtySecondsWithFullJitter() {
        List<Long> bounds = new ArrayList<>();
        Backoff b = new Backoff(500, 30_000, bound -> {
            bounds.add(bound);
            return bound / 2;
        });
        List<Long> delays = new ArrayList<>();
        for (int i = 0; i < 9; i++) {
            delays.add(b.nextDelayMillis());
        }
        assertEquals(List.of(500L, 1000L, 2000L, 4000L, 8000L, 16000L, 30000L, 30000L, 30000L), bounds);
        assertEquals(250L, delays.get(0));
        assertEquals(15_000L, delays.get(8));
        b.reset();
        assertEquals(500L, b.ceilingMillis());
    }
}
