package io.remora.core.digest;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.remora.core.log.LogFiles;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.ZoneId;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The digest (trace) logs: {@code rpc-client-digest.log} for calls through outbound listeners and
 * {@code rpc-server-digest.log} for inbound ones, exactly one comma-separated line per call and nothing else:
 * <pre>time,app,traceId,rpcId,service,method,protocol,callType,targetAddress,targetApp,resultCode,reqBytes,respBytes,totalMs,proxyUs,callerIp</pre>
 * Allocation-free in steady state on both sides. An event loop claims a preallocated entry of a bounded ring
 * (multi-producer, lock-free), fills it with primitives and references to strings it already has, and publishes it:
 * <pre>
 * DigestLog.Entry e = digest.claim(inbound);
 * if (e != null) {
 *     e.time(now).app(app).traceId(t)...callerIp(ip);
 *     digest.publish(e);
 * }</pre>
 * When the ring is full the call is dropped and counted ({@code remora_digest_dropped_total}), never waiting. One
 * daemon writer thread formats entries into a byte buffer per file and writes it when it is nearly full or the ring is
 * empty; idle, it parks with a growing back-off (1 to 50 ms), so producers never wake it. Files roll at 100 MB into
 * {@code .1} .. {@code .5}. Switched on and off at run time with the files' log level (INFO = on, above = off), held
 * by level-only loggers ({@link LogFiles#levelOnly}).
 */
public final class DigestLog implements AutoCloseable {

    public static final String CLIENT_FILE = "rpc-client-digest.log";
    public static final String SERVER_FILE = "rpc-server-digest.log";
    public static final int DEFAULT_CAPACITY = 16 * 1024;
    /** Entries are preallocated (about 100 bytes each): a larger {@code metrics.digest_queue} is capped here. */
    public static final int MAX_CAPACITY = 1 << 20;
    static final long ROLL_BYTES = 100L * 1024 * 1024;
    private static final long MIN_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final long MAX_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
    private static final long CHECK_FILES_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final long CLOSE_WAIT_MILLIS = 2000;
    private static final VarHandle SEQ;
    private static final VarHandle TAIL;
    private static final VarHandle HEAD;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            SEQ = l.findVarHandle(Entry.class, "seq", long.class);
            TAIL = l.findVarHandle(Tail.class, "tail", long.class);
            HEAD = l.findVarHandle(DigestLog.class, "head", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final Logger client;
    private final Logger server;
    private final Entry[] ring;
    private final int mask;
    /** next sequence to claim (producers, CAS); padded away from {@link #head} */
    private final Tail tail = new Tail();
    /** next sequence to write (the writer only; read by the queue-size gauge) */
    @SuppressWarnings("unused")
    private volatile long head;
    private final Counter dropped;
    private final DigestFormat format;
    private final DigestFile clientFile;
    private final DigestFile serverFile;
    private final Thread writer;
    private volatile boolean closed;

    public DigestLog(LogFiles logs, MeterRegistry registry, int capacity) {
        this(logs, registry, capacity, ROLL_BYTES, ZoneId.systemDefault());
        writer.start();
    }

    /** Not started: tests start the writer ({@link #start}) when they want it. */
    DigestLog(LogFiles logs, MeterRegistry registry, int capacity, long rollBytes, ZoneId zone) {
        this.client = logs.levelOnly(CLIENT_FILE, "INFO");
        this.server = logs.levelOnly(SERVER_FILE, "INFO");
        int size = ringSize(capacity);
        this.ring = new Entry[size];
        for (int i = 0; i < size; i++) {
            ring[i] = new Entry();
            ring[i].seq = i;
        }
        this.mask = size - 1;
        this.dropped = Counter.builder("remora_digest_dropped")
                .description("Digest log lines dropped (buffer full or write failed)").register(registry);
        Gauge.builder("remora_digest_queue_size", this, DigestLog::queued)
                .description("Digest log lines waiting to be written").register(registry);
        this.format = new DigestFormat(zone);
        this.clientFile = new DigestFile(logs.dir().resolve(CLIENT_FILE), rollBytes, dropped);
        this.serverFile = new DigestFile(logs.dir().resolve(SERVER_FILE), rollBytes, dropped);
        this.writer = new Thread(this::run, "remora-digest-writer");
        this.writer.setDaemon(true);
    }

    /** The ring's size: {@code capacity} rounded up to a power of two, at least 2, at most {@link #MAX_CAPACITY}. */
    static int ringSize(int capacity) {
        int c = Math.max(2, Math.min(capacity, MAX_CAPACITY));
        return Integer.highestOneBit(c - 1) << 1;
    }

    void start() {
        writer.start();
    }

    Thread writerThread() {
        return writer;
    }

    /** Whether a line for this direction would be written now (check before gathering its values). */
    public boolean enabled(boolean inbound) {
        return (inbound ? server : client).isInfoEnabled();
    }

    /**
     * Claims the next entry for a call in this direction; never blocks. Returns null (and counts a drop) when the ring
     * is full, or null once closed. A non-null entry MUST be filled and then {@link #publish published} right away on
     * the same thread (publish in a finally): the writer waits for it in order. Unset fields are written as {@code -}
     * or 0.
     */
    public Entry claim(boolean inbound) {
        if (closed) {
            return null;
        }
        Entry[] r = ring;
        for (;;) {
            long pos = (long) TAIL.getVolatile(tail);
            Entry e = r[(int) pos & mask];
            long dif = (long) SEQ.getAcquire(e) - pos;
            if (dif == 0) {
                if (TAIL.compareAndSet(tail, pos, pos + 1)) {
                    e.pos = pos;
                    e.inbound = inbound;
                    return e;
                }
            } else if (dif < 0) {
                dropped.increment();
                return null;
            }
            // else another producer took pos: read the tail again
        }
    }

    /** Hands a filled entry to the writer; the entry must not be touched afterwards. */
    public void publish(Entry e) {
        SEQ.setRelease(e, e.pos + 1);
    }

    public double droppedCount() {
        return dropped.count();
    }

    /** Lines claimed and not yet written (the queue-size gauge). */
    long queued() {
        return Math.max(0, (long) TAIL.getVolatile(tail) - head);
    }

    private void run() {
        long park = MIN_PARK_NANOS;
        long nextCheck = System.nanoTime() + CHECK_FILES_NANOS;
        long closeDeadline = 0;
        for (;;) {
            if (drain() > 0) {
                park = MIN_PARK_NANOS;
            } else {
                clientFile.flush();
                serverFile.flush();
                if (closed) {
                    if (closeDeadline == 0) {
                        closeDeadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(CLOSE_WAIT_MILLIS - 200);
                    }
                    // Done when nothing is claimed and unpublished, or when a stuck producer has had its time.
                    if (queued() == 0 || System.nanoTime() - closeDeadline > 0) {
                        clientFile.close();
                        serverFile.close();
                        return;
                    }
                }
                long now = System.nanoTime();
                if (now - nextCheck > 0) {
                    nextCheck = now + CHECK_FILES_NANOS;
                    checkFiles();
                }
                LockSupport.parkNanos(this, closed ? MIN_PARK_NANOS : park);
                park = Math.min(park * 2, MAX_PARK_NANOS);
            }
        }
    }

    /** Formats every published entry, in order, into its file's buffer (written out when nearly full). */
    int drain() {
        Entry[] r = ring;
        long pos = head;
        int n = 0;
        for (;;) {
            Entry e = r[(int) pos & mask];
            if ((long) SEQ.getAcquire(e) != pos + 1) {
                return n;
            }
            DigestFile f = e.inbound ? serverFile : clientFile;
            f.reserveLine();
            int start = f.pos;
            try {
                f.pos = format.format(e, f.buf, start);
            } catch (RuntimeException ex) { // a bug, not an input: lose the line, not the writer
                f.pos = start;
                dropped.increment();
                LoggerFactory.getLogger(DigestLog.class).warn("digest line dropped", ex);
            }
            e.clear();
            SEQ.setRelease(e, pos + r.length);
            pos++;
            HEAD.setRelease(this, pos);
            n++;
        }
    }

    /** One writer step, for tests that drive an unstarted log: formats what is published and writes it out. */
    void writeOut() {
        drain();
        clientFile.flush();
        serverFile.flush();
    }

    /** For tests that drive an unstarted log: what the writer does once a second. */
    void checkFiles() {
        clientFile.checkStillThere();
        serverFile.checkStillThere();
    }

    /** Writes what is queued (waiting up to about 2 s), closes the files and stops the writer. */
    @Override
    public void close() {
        closed = true;
        if (!writer.isAlive()) {
            if (writer.getState() == Thread.State.NEW) { // never started (tests): write out here
                writeOut();
                clientFile.close();
                serverFile.close();
            }
            return;
        }
        LockSupport.unpark(writer);
        try {
            writer.join(CLOSE_WAIT_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Padding keeps the producers' CAS target off the cache line of the writer's {@code head}. */
    @SuppressWarnings("unused")
    private static class TailPad {
        long p1, p2, p3, p4, p5, p6, p7;
    }

    @SuppressWarnings("unused")
    private static class TailValue extends TailPad {
        volatile long tail;
    }

    @SuppressWarnings("unused")
    private static final class Tail extends TailValue {
        long q1, q2, q3, q4, q5, q6, q7;
    }

    /**
     * One call's digest values, reused: the setters only store primitives and references (pass strings that already
     * exist). Filled by the thread that {@link #claim claimed} it, between claim and {@link #publish}.
     */
    public static final class Entry {
        @SuppressWarnings("unused")
        private volatile long seq;
        private long pos;
        boolean inbound;
        long timeMillis;
        String app;
        String traceId;
        String rpcId;
        String service;
        String method;
        String protocol;
        String callType;
        String targetAddress;
        String targetApp;
        String resultCode;
        long requestBytes;
        long responseBytes;
        long totalMicros;
        long proxyMicros;
        String callerIp;

        Entry() {
        }

        /** When the call ended, epoch milliseconds. */
        public Entry time(long epochMillis) {
            this.timeMillis = epochMillis;
            return this;
        }

        /** This sidecar's application. */
        public Entry app(String app) {
            this.app = app;
            return this;
        }

        public Entry traceId(String traceId) {
            this.traceId = traceId;
            return this;
        }

        public Entry rpcId(String rpcId) {
            this.rpcId = rpcId;
            return this;
        }

        public Entry service(String service) {
            this.service = service;
            return this;
        }

        public Entry method(String method) {
            this.method = method;
            return this;
        }

        public Entry protocol(String protocol) {
            this.protocol = protocol;
            return this;
        }

        /** sync, oneway, grpc ... */
        public Entry callType(String callType) {
            this.callType = callType;
            return this;
        }

        /** The upstream host (null when none was picked) and its application (null when unknown). */
        public Entry target(String address, String app) {
            this.targetAddress = address;
            this.targetApp = app;
            return this;
        }

        /** 00 ok, 01 business error, 02 RPC error, 03 timeout, 04 routing failure. */
        public Entry result(String code) {
            this.resultCode = code;
            return this;
        }

        public Entry bytes(long request, long response) {
            this.requestBytes = request;
            this.responseBytes = response;
            return this;
        }

        /** The call's total time and the part spent inside the sidecar (total minus the upstream's own time). */
        public Entry micros(long total, long proxy) {
            this.totalMicros = total;
            this.proxyMicros = proxy;
            return this;
        }

        public Entry callerIp(String callerIp) {
            this.callerIp = callerIp;
            return this;
        }

        /** Drops the references (so a slot does not keep a call's strings alive) and the numbers. */
        void clear() {
            timeMillis = 0;
            app = traceId = rpcId = service = method = protocol = callType = null;
            targetAddress = targetApp = resultCode = callerIp = null;
            requestBytes = responseBytes = totalMicros = proxyMicros = 0;
        }
    }
}
