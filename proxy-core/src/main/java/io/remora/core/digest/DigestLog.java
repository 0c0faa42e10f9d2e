package io.remora.core.digest;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.remora.core.log.LogFiles;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;

/**
 * The digest (trace) logs: {@code rpc-client-digest.log} for calls through outbound listeners and
 * {@code rpc-server-digest.log} for inbound ones, one comma-separated line per call:
 * <pre>time,app,traceId,rpcId,service,method,protocol,callType,targetAddress,targetApp,resultCode,reqBytes,respBytes,totalMs,proxyUs,callerIp</pre>
 * The event loop only offers a record to a bounded queue; a writer thread formats and writes it. When the queue is full
 * the record is dropped and counted ({@code remora_digest_dropped_total}), never blocking a request. Switched on and off
 * at run time with the files' log level (INFO = on, anything above = off).
 */
public final class DigestLog implements AutoCloseable {

    public static final String CLIENT_FILE = "rpc-client-digest.log";
    public static final String SERVER_FILE = "rpc-server-digest.log";
    public static final int DEFAULT_CAPACITY = 16 * 1024;
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS")
            .withZone(ZoneId.systemDefault());
    private static final DigestRecord STOP = new DigestRecord(0, false, null, null, null, null, null, null, null,
            null, null, null, 0, 0, 0, 0, null);

    private final Logger client;
    private final Logger server;
    private final BlockingQueue<DigestRecord> queue;
    private final Counter dropped;
    private final Thread writer;

    public DigestLog(LogFiles logs, MeterRegistry registry, int capacity) {
        this.client = logs.fileLogger(CLIENT_FILE, "INFO");
        this.server = logs.fileLogger(SERVER_FILE, "INFO");
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.dropped = Counter.builder("remora_digest_dropped").description("Digest log lines dropped (queue full)")
                .register(registry);
        Gauge.builder("remora_digest_queue_size", queue, BlockingQueue::size)
                .description("Digest log lines waiting to be written").register(registry);
        this.writer = new Thread(this::drain, "remora-digest-writer");
        this.writer.setDaemon(true);
        this.writer.start();
    }

    /** Whether a line for this direction would be written now (check before building a record). */
    public boolean enabled(boolean inbound) {
        return (inbound ? server : client).isInfoEnabled();
    }

    /** Queues a record; never blocks. Returns false (and counts) when the queue is full. */
    public boolean offer(DigestRecord r) {
        if (queue.offer(r)) {
            return true;
        }
        dropped.increment();
        return false;
    }

    public double droppedCount() {
        return dropped.count();
    }

    private void drain() {
        StringBuilder sb = new StringBuilder(256);
        try {
            for (;;) {
                DigestRecord r = queue.take();
                if (r == STOP) {
                    return;
                }
                sb.setLength(0);
                format(r, sb);
                (r.inbound() ? server : client).info(sb.toString());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The writer thread's last formatted second ("yyyy-MM-dd HH:mm:ss"): one formatter call per second, not per line. */
    private static final class Second {
        long epochSecond = Long.MIN_VALUE;
        String text;
    }

    private static final ThreadLocal<Second> SECOND = ThreadLocal.withInitial(Second::new);

    /** The line for {@code r} (also used by tests to parse what was written). */
    static void format(DigestRecord r, StringBuilder sb) {
        long ms = r.timeMillis();
        long sec = Math.floorDiv(ms, 1000);
        Second s = SECOND.get();
        if (s.epochSecond != sec) {
            String full = TIME.format(Instant.ofEpochMilli(sec * 1000));
            s.text = full.substring(0, full.length() - 4); // without ".000"
            s.epochSecond = sec;
        }
        sb.append(s.text).append('.');
        pad3(sb, Math.floorMod(ms, 1000));
        sb.append(',');
        field(sb, r.app());
        field(sb, r.traceId());
        field(sb, r.rpcId());
        field(sb, r.service());
        field(sb, r.method());
        field(sb, r.protocol());
        field(sb, r.callType());
        field(sb, r.targetAddress());
        field(sb, r.targetApp());
        field(sb, r.resultCode());
        sb.append(r.requestBytes()).append(',')
                .append(r.responseBytes()).append(',')
                .append(r.totalMicros() / 1000).append('.');
        pad3(sb, r.totalMicros() % 1000);
        sb.append(',')
                .append(r.proxyMicros()).append(',');
        sb.append(r.callerIp() == null ? "-" : r.callerIp());
    }

    /** Like String.format("%03d", v) for 0 <= v < 1000 (or any v, unpadded beyond 3 digits), without its garbage. */
    private static void pad3(StringBuilder sb, long v) {
        if (v >= 0 && v < 100) {
            sb.append('0');
            if (v < 10) {
                sb.append('0');
            }
        }
        sb.append(v);
    }

    private static void field(StringBuilder sb, String v) {
        if (v == null || v.isEmpty()) {
            sb.append('-');
        } else {
            for (int i = 0; i < v.length(); i++) {
                char c = v.charAt(i);
                sb.append(c == ',' || c == '\n' || c == '\r' ? '_' : c);
            }
        }
        sb.append(',');
    }

    /** Writes what is queued (bounded wait) and stops the writer. */
    @Override
    public void close() {
        try {
            queue.offer(STOP, 1, TimeUnit.SECONDS);
            writer.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
