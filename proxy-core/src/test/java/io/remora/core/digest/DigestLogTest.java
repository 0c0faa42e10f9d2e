package io.remora.core.digest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.remora.core.log.LogFiles;
import io.remora.core.log.LogManager;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;

/** The digest log: exact lines, drops instead of waits, rolling, level switch, many producers, drain on close. */
class DigestLogTest {

    private static final long T = Instant.parse("2026-11-21T19:40:00.123Z").toEpochMilli();
    private static final String LINE = "2026-11-21 19:40:00.123,hello-client,0a0fe8f5170000,0.1,"
            + "com.example.HelloService:1.0,sayHello,bolt,sync,127.0.0.1:12199,hello-server,00,787,175,1.250,85,"
            + "127.0.0.1\n";

    @TempDir
    Path dir;
    private final LoggerContext levels = new LoggerContext();
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    /** Level-only loggers from a private logback context (the global one belongs to the sidecars under test). */
    private LogFiles files() {
        return new LogFiles() {
            @Override public Path dir() { return dir; }
            @Override public Logger fileLogger(String fileName, String level) {
                ch.qos.logback.classic.Logger l = levels.getLogger(fileName);
                if (l.getLevel() == null) {
                    l.setLevel(Level.toLevel(level));
                }
                return l;
            }
        };
    }

    private DigestLog unstarted(int capacity, long rollBytes) {
        return new DigestLog(files(), registry, capacity, rollBytes, ZoneOffset.UTC);
    }

    private static void fill(DigestLog.Entry e, String traceId) {
        e.time(T).app("hello-client").traceId(traceId).rpcId("0.1").service("com.example.HelloService:1.0")
                .method("sayHello").protocol("bolt").callType("sync").target("127.0.0.1:12199", "hello-server")
                .result("00").bytes(787, 175).micros(1250, 85).callerIp("127.0.0.1");
    }

    private static boolean write(DigestLog log, boolean inbound, String traceId) {
        DigestLog.Entry e = log.claim(inbound);
        if (e == null) {
            return false;
        }
        fill(e, traceId);
        log.publish(e);
        return true;
    }

    private List<String> lines(String file) throws Exception {
        Path f = dir.resolve(file);
        return Files.exists(f) ? Files.readAllLines(f, StandardCharsets.UTF_8) : List.of();
    }

    private static String format(DigestLog.Entry e) {
        byte[] b = new byte[DigestFormat.MAX_LINE];
        int n = new DigestFormat(ZoneOffset.UTC).format(e, b, 0);
        return new String(b, 0, n, StandardCharsets.UTF_8);
    }

    @Test
    void writesExactlyTheDocumentedLineAndNothingElse() throws Exception {
        DigestLog log = unstarted(16, DigestLog.ROLL_BYTES);
        assertTrue(write(log, false, "0a0fe8f5170000"));
        assertTrue(write(log, true, "0a0fe8f5170000"));
        log.close();
        assertEquals(LINE, Files.readString(dir.resolve(DigestLog.CLIENT_FILE)));
        assertEquals(LINE, Files.readString(dir.resolve(DigestLog.SERVER_FILE)));
    }

    @Test
    void formatsTheTimeInTheGivenZone() {
        DigestLog.Entry e = new DigestLog.Entry();
        fill(e, "t");
        byte[] b = new byte[DigestFormat.MAX_LINE];
        int n = new DigestFormat(ZoneId.of("Asia/Shanghai")).format(e, b, 0);
        assertTrue(new String(b, 0, n, StandardCharsets.UTF_8).startsWith("2026-11-22 03:40:00.123,"));
        e.time(T + 1_877); // another second, and milliseconds below 100
        n = new DigestFormat(ZoneOffset.UTC).format(e, b, 0);
        assertTrue(new String(b, 0, n, StandardCharsets.UTF_8).startsWith("2026-11-21 19:40:02.000,"));
    }

    @Test
    void neutralisesSeparatorsWritesDashesForMissingValuesAndUtf8ForTheRest() {
        DigestLog.Entry e = new DigestLog.Entry();
        e.time(T).app("").traceId("t,1\n2\r3").service("服务.Svc").method("m\uD83D\uDE00é").protocol("bolt")
                .callType("sync").result("02").bytes(0, -1).micros(7, -3).callerIp("\uD800x");
        String line = format(e);
        assertEquals("2026-11-21 19:40:00.123,-,t_1_2_3,-,服务.Svc,m\uD83D\uDE00é,bolt,sync,-,-,02,0,-1,0.007,-3,?x\n",
                line);
    }

    @Test
    void cutsOverlongValuesSoALineHasABound() {
        DigestLog.Entry e = new DigestLog.Entry();
        String huge = "界".repeat(10_000);
        e.time(T).app(huge).traceId(huge).rpcId(huge).service(huge).method(huge).protocol(huge).callType(huge)
                .target(huge, huge).result(huge).bytes(Long.MAX_VALUE, Long.MIN_VALUE)
                .micros(Long.MAX_VALUE, Long.MIN_VALUE).callerIp(huge);
        String[] f = format(e).split(",", -1);
        assertEquals(16, f.length);
        assertEquals(DigestFormat.MAX_FIELD_CHARS, f[1].length());
        assertEquals(String.valueOf(Long.MAX_VALUE), f[11]);
        assertEquals(String.valueOf(Long.MIN_VALUE), f[12]);
        assertEquals(String.valueOf(Long.MIN_VALUE), f[14]);
    }

    @Test
    void dropsAndCountsInsteadOfWaitingWhenTheRingIsFull() throws Exception {
        DigestLog log = unstarted(2, DigestLog.ROLL_BYTES);
        int accepted = 0;
        for (int i = 0; i < 100; i++) {
            if (write(log, false, "t" + i)) {
                accepted++;
            }
        }
        assertEquals(2, accepted, "only the ring's capacity is accepted while the writer is away");
        assertEquals(98.0, log.droppedCount());
        assertEquals(98.0, registry.get("remora_digest_dropped").counter().count());
        assertEquals(2.0, registry.get("remora_digest_queue_size").gauge().value());
        log.writeOut();
        assertEquals(0.0, registry.get("remora_digest_queue_size").gauge().value());
        assertTrue(write(log, false, "after"), "room again once written");
        log.close();
        assertEquals(List.of("t0", "t1", "after"), lines(DigestLog.CLIENT_FILE).stream().map(l -> l.split(",")[2])
                .toList());
    }

    @Test
    void ringSizeIsTheConfiguredCapacityRoundedUpToAPowerOfTwo() {
        assertEquals(2, DigestLog.ringSize(1));
        assertEquals(16_384, DigestLog.ringSize(16_384));
        assertEquals(16_384, DigestLog.ringSize(10_000));
        assertEquals(DigestLog.MAX_CAPACITY, DigestLog.ringSize(10_000_000));
    }

    @Test
    void rollsBySizeIntoFiveNumberedFiles() throws Exception {
        DigestLog log = unstarted(16, 1000);
        int n = 100;
        for (int i = 0; i < n; i++) {
            assertTrue(write(log, false, String.format("t%03d", i)));
            log.writeOut(); // one batch per line: the roll is checked after each batch
        }
        log.close();
        String name = DigestLog.CLIENT_FILE;
        assertFalse(Files.exists(dir.resolve(name + ".6")));
        List<String> ids = new ArrayList<>();
        for (int i = 5; i >= 1; i--) {
            Path rolled = dir.resolve(name + "." + i);
            assertTrue(Files.size(rolled) >= 1000, rolled + " rolled at the size");
            assertTrue(Files.size(rolled) < 1000 + LINE.length(), rolled + " rolled right after the size");
            lines(name + "." + i).forEach(l -> ids.add(l.split(",")[2]));
        }
        lines(name).forEach(l -> ids.add(l.split(",")[2]));
        // The newest lines are kept, in order and whole; the oldest went with the sixth file.
        assertEquals(String.format("t%03d", n - 1), ids.get(ids.size() - 1));
        for (int i = 1; i < ids.size(); i++) {
            assertEquals(Integer.parseInt(ids.get(i - 1).substring(1)) + 1, Integer.parseInt(ids.get(i).substring(1)));
        }
    }

    @Test
    void theFileLevelSwitchesLinesOffAndOn() {
        DigestLog log = unstarted(16, DigestLog.ROLL_BYTES);
        assertTrue(log.enabled(false));
        assertTrue(log.enabled(true));
        levels.getLogger(DigestLog.CLIENT_FILE).setLevel(Level.ERROR);
        assertFalse(log.enabled(false));
        assertTrue(log.enabled(true), "each file has its own level");
        levels.getLogger(DigestLog.CLIENT_FILE).setLevel(Level.INFO);
        assertTrue(log.enabled(false));
        log.close();
    }

    @Test
    void levelOnlyLoggerIsListedAndSwitchableAndHasNoAppender() throws Exception {
        LogManager logs = LogManager.configure(dir, "ERROR", false);
        DigestLog log = new DigestLog(logs, registry, 16);
        String path = dir.toAbsolutePath().normalize().resolve(DigestLog.CLIENT_FILE).toString();
        assertEquals("INFO", logs.levels().get(path));
        logs.update(path, "ERROR");
        assertFalse(log.enabled(false));
        logs.update(DigestLog.CLIENT_FILE, "INFO");
        assertTrue(log.enabled(false));
        ch.qos.logback.classic.Logger l = (ch.qos.logback.classic.Logger) logs.levelOnly(DigestLog.CLIENT_FILE,
                "INFO");
        assertFalse(l.iteratorForAppenders().hasNext(), "only the digest writer writes the file");
        assertTrue(write(log, false, "x"));
        log.close();
        assertEquals(1, lines(DigestLog.CLIENT_FILE).size());
    }

    @Test
    void concurrentProducersEachLandExactlyOnceInTheirOrder() throws Exception {
        DigestLog log = new DigestLog(files(), registry, 32_768);
        int threads = 4;
        int each = 5_000;
        String[][] ids = new String[threads][each];
        for (int t = 0; t < threads; t++) {
            for (int i = 0; i < each; i++) {
                ids[t][i] = "p" + t + "-" + i;
            }
        }
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> producers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            String[] mine = ids[t];
            boolean inbound = t % 2 == 1;
            Thread p = new Thread(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (String id : mine) {
                    write(log, inbound, id);
                }
            });
            p.start();
            producers.add(p);
        }
        go.countDown();
        for (Thread p : producers) {
            p.join(10_000);
        }
        log.close();
        assertEquals(0.0, log.droppedCount());
        List<String> all = new ArrayList<>(lines(DigestLog.CLIENT_FILE));
        all.addAll(lines(DigestLog.SERVER_FILE));
        assertEquals(threads * each, all.size());
        Set<String> seen = new HashSet<>();
        int[] next = new int[threads];
        for (String l : all) {
            String[] f = l.split(",", -1);
            assertEquals(16, f.length, l);
            String id = f[2];
            assertTrue(seen.add(id), "twice: " + id);
            int t = id.charAt(1) - '0';
            assertEquals("p" + t + "-" + next[t]++, id, "a producer's lines keep its order");
        }
    }

    @Test
    void closeWritesEverythingQueued() throws Exception {
        DigestLog log = new DigestLog(files(), registry, 4096);
        for (int i = 0; i < 3000; i++) {
            assertTrue(write(log, false, "t" + i));
        }
        log.close();
        assertEquals(3000, lines(DigestLog.CLIENT_FILE).size());
        assertNull(log.claim(false), "nothing is taken after close");
    }

    @Test
    void dropsAndCountsWhileTheFileCannotBeWrittenThenRecovers() throws Exception {
        Path blocker = dir.resolve("blocked");
        Files.writeString(blocker, "a file where the log directory should be");
        Path logDir = blocker.resolve("logs");
        LogFiles blocked = new LogFiles() {
            @Override public Path dir() { return logDir; }
            @Override public Logger fileLogger(String fileName, String level) { return files().fileLogger(fileName,
                    level); }
        };
        DigestLog log = new DigestLog(blocked, registry, 16, DigestLog.ROLL_BYTES, ZoneOffset.UTC);
        write(log, false, "lost1");
        write(log, false, "lost2");
        log.writeOut();
        assertEquals(2.0, log.droppedCount());
        Files.delete(blocker);
        write(log, false, "kept");
        log.writeOut();
        assertEquals(2.0, log.droppedCount());
        assertEquals("kept", Files.readAllLines(logDir.resolve(DigestLog.CLIENT_FILE)).get(0).split(",")[2]);
        log.close();
    }

    @Test
    void recreatesTheFileWhenItIsDeletedUnderTheWriter() throws Exception {
        DigestLog log = unstarted(16, DigestLog.ROLL_BYTES);
        write(log, false, "first");
        log.writeOut();
        Files.delete(dir.resolve(DigestLog.CLIENT_FILE));
        log.checkFiles();
        write(log, false, "second");
        log.close();
        assertEquals(List.of("second"), lines(DigestLog.CLIENT_FILE).stream().map(l -> l.split(",")[2]).toList());
    }

    // ---- allocation: counted by the JVM per thread, so exact enough to assert "nothing per call"

    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    @Test
    void allocationIsMeasurable() {
        assertTrue(THREADS.isThreadAllocatedMemorySupported() && THREADS.isThreadAllocatedMemoryEnabled());
        long before = THREADS.getCurrentThreadAllocatedBytes();
        byte[] sink = new byte[10_000];
        assertTrue(THREADS.getCurrentThreadAllocatedBytes() - before >= sink.length);
    }

    @Test
    void claimAndPublishAllocateNothing() throws Exception {
        DigestLog log = new DigestLog(files(), registry, 16_384);
        try {
            for (int i = 0; i < 20_000; i++) {
                write(log, false, "warm");
            }
            long before = THREADS.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < 10_000; i++) {
                write(log, false, "same");
            }
            long allocated = THREADS.getCurrentThreadAllocatedBytes() - before;
            assertTrue(allocated < 1024, "claim/publish allocated " + allocated + " bytes for 10000 calls");
        } finally {
            log.close();
        }
    }

    @Test
    void formattingAllocatesNothing() {
        DigestLog.Entry e = new DigestLog.Entry();
        fill(e, "0a0fe8f5170000");
        e.service("服务.Svc");
        DigestFormat f = new DigestFormat(ZoneOffset.UTC);
        byte[] b = new byte[DigestFormat.MAX_LINE];
        for (int i = 0; i < 20_000; i++) {
            f.format(e, b, 0);
        }
        long before = THREADS.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < 10_000; i++) {
            f.format(e, b, 0);
        }
        long allocated = THREADS.getCurrentThreadAllocatedBytes() - before;
        assertTrue(allocated < 1024, "formatting allocated " + allocated + " bytes for 10000 lines");
    }

    @Test
    void theWriterThreadAllocatesNothingPerLine() throws Exception {
        DigestLog log = new DigestLog(files(), registry, 16_384);
        try {
            Path file = dir.resolve(DigestLog.CLIENT_FILE);
            Thread writer = log.writerThread();
            long written = 0;
            written += writeAndAwait(log, file, written, 20_000);
            long before = THREADS.getThreadAllocatedBytes(writer.getId());
            written += writeAndAwait(log, file, written, 10_000);
            long allocated = THREADS.getThreadAllocatedBytes(writer.getId()) - before;
            // Slack for the once-a-second file check (a stat), not per line.
            assertTrue(allocated < 1024, "the writer allocated " + allocated + " bytes for 10000 lines");
        } finally {
            log.close();
        }
    }

    /** Writes {@code n} lines (retrying when the ring is full) and waits until they are all in the file. */
    private static long writeAndAwait(DigestLog log, Path file, long already, int n) throws Exception {
        for (int i = 0; i < n; i++) {
            while (!write(log, false, "same")) {
                Thread.onSpinWait();
            }
        }
        long want = (already + n) * (LINE.length() - "0a0fe8f5170000".length() + "same".length());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!(Files.exists(file) && Files.size(file) == want)) {
            assertTrue(System.nanoTime() < deadline, "lines not written");
            Thread.sleep(5);
        }
        return n;
    }
}
