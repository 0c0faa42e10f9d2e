package io.remora.core.digest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.remora.core.log.LogFiles;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.Marker;
import org.slf4j.event.Level;
import org.slf4j.helpers.LegacyAbstractLogger;

/** The digest writer never blocks an event loop: a flood past its buffer is dropped and counted. */
class DigestLogTest {

    /** A logger whose writes block until released, standing in for a stuck disk. */
    static final class StuckLogger extends LegacyAbstractLogger {
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);

        @Override
        protected String getFullyQualifiedCallerName() {
            return null;
        }

        @Override
        protected void handleNormalizedLoggingCall(Level level, Marker marker, String msg, Object[] args,
                                                   Throwable t) {
            entered.countDown();
            try {
                release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        @Override public boolean isTraceEnabled() { return false; }
        @Override public boolean isTraceEnabled(Marker m) { return false; }
        @Override public boolean isDebugEnabled() { return false; }
        @Override public boolean isDebugEnabled(Marker m) { return false; }
        @Override public boolean isInfoEnabled() { return true; }
        @Override public boolean isInfoEnabled(Marker m) { return true; }
        @Override public boolean isWarnEnabled() { return true; }
        @Override public boolean isWarnEnabled(Marker m) { return true; }
        @Override public boolean isErrorEnabled() { return true; }
        @Override public boolean isErrorEnabled(Marker m) { return true; }
    }

    private static DigestRecord record(int i) {
        return new DigestRecord(0, false, "app", "t" + i, "0.1", "svc", "m", "bolt", "sync", "h:1", null, "00",
                10, 20, 1500, 30, "127.0.0.1");
    }

    @Test
    void dropsAndCountsInsteadOfBlockingWhenTheWriterIsStuck() throws Exception {
        StuckLogger stuck = new StuckLogger();
        LogFiles files = new LogFiles() {
            @Override public Path dir() { return Path.of("."); }
            @Override public Logger fileLogger(String fileName, String level) { return stuck; }
        };
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        DigestLog log = new DigestLog(files, registry, 2);
        try {
            assertTrue(log.offer(record(0)));
            assertTrue(stuck.entered.await(5, TimeUnit.SECONDS), "the writer took the first record and is stuck");
            int accepted = 0;
            for (int i = 1; i <= 100; i++) {
                if (log.offer(record(i))) {
                    accepted++;
                }
            }
            assertEquals(2, accepted, "only the buffer's capacity is accepted while the writer is stuck");
            assertEquals(98.0, log.droppedCount());
            assertEquals(98.0, registry.get("remora_digest_dropped").counter().count());
        } finally {
            stuck.release.countDown();
            log.close();
        }
    }

    @Test
    void formatsOneCommaSeparatedLineAndNeutralisesCommasInValues() {
        StringBuilder sb = new StringBuilder();
        DigestLog.format(new DigestRecord(0, false, "app", "t,1", null, "com.x.Svc:1.0", "say", "bolt", "sync",
                "10.0.0.1:12200", "server-app", "00", 100, 200, 1234, 56, "127.0.0.1"), sb);
        String[] f = sb.toString().split(",", -1);
        assertEquals(16, f.length, sb.toString());
        assertEquals("t_1", f[2]);
        assertEquals("-", f[3]);
        assertEquals("1.234", f[13]);
        assertEquals("56", f[14]);
        assertFalse(sb.toString().contains("\n"));
    }
}
