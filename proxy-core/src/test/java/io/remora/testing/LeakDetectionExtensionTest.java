package io.remora.testing;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import org.junit.jupiter.api.Test;

/** The suite's leak guard must itself catch a leak, or every "no leak" result means nothing. */
class LeakDetectionExtensionTest {

    @Test
    void reportsABufferThatWasNeverReleased() throws Exception {
        leakOne();
        boolean seen = false;
        for (int attempt = 0; attempt < 20 && !seen; attempt++) {
            seen = LeakDetectionExtension.collectLeaks().stream().anyMatch(l -> l.contains("LEAK"));
        }
        assertTrue(seen, "the deliberately leaked buffer was reported");
        assertFalse(LeakDetectionExtension.collectLeaks().stream().anyMatch(l -> l.contains("LEAK")),
                "collecting forgets what was reported, so this class itself does not fail");
    }

    private static void leakOne() {
        ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(128);
        b.writeLong(42);
        // dropped without release on purpose
    }
}
