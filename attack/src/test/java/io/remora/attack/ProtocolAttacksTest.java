package io.remora.attack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.remora.bolt.testing.BoltFrames;
import io.remora.dubbo.testing.RawDubboClient;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Malformed and hostile input on each protocol's port of one sidecar with the product's default limits (HTTP:
 * {@code request_header_timeout_ms} 2000 so slowloris ends within the suite's budget).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ProtocolAttacksTest {

    private static Rig rig;

    @BeforeAll
    static void start() throws Exception {
        rig = Rig.start("protocols", null, null, null, Map.of(), false);
    }

    @AfterAll
    static void stop() throws Exception {
        if (rig != null) {
            rig.close();
        }
        AttackReport.print();
    }

    /** Every attack lasts at least this long, so the healthy clients call while it runs. */
    static final long MIN_MS = 1200;

    /** Another round: fewer than {@code atLeast} done, or the attack has not lasted {@link #MIN_MS} yet. */
    static boolean again(long t0, int done, int atLeast) {
        return done < atLeast || Raw.ms(t0) < MIN_MS;
    }

    /** Spreads {@code total} rounds over {@link #MIN_MS} (for attacks whose every round is logged). */
    static void pace(long t0, int done, int total) throws InterruptedException {
        long due = MIN_MS * done / total;
        long now = Raw.ms(t0);
        if (due > now) {
            Thread.sleep(due - now); // pacing the attacker
        }
    }

    /**
     * Connections each sending 16 KB of seeded random bytes; all must be closed. At least {@code connections} of them
     * for at least {@link #MIN_MS}, or, {@code paced}, exactly {@code connections} spread over that time.
     */
    private static String garbage(int port, int connections, long seed, Map<Integer, Integer> statuses,
                                  boolean paced) throws Exception {
        Random rnd = new Random(seed);
        int closed = 0;
        long slowest = 0;
        long t0 = System.nanoTime();
        int i = 0;
        for (; paced ? i < connections : again(t0, i, connections); i++) {
            if (paced) {
                pace(t0, i, connections);
            }
            byte[] g = new byte[16 * 1024];
            rnd.nextBytes(g);
            try (Socket s = Raw.connect(port)) {
                Origins.write(s.getOutputStream(), g);
                Raw.End e = Raw.awaitClose(s, 5000);
                if (e.closed()) {
                    closed++;
                }
                slowest = Math.max(slowest, e.millis());
                statuses.merge(e.httpStatus(), 1, Integer::sum);
            }
        }
        assertEquals(i, closed, "every garbage connection is closed by the sidecar");
        return closed + "/" + i + " connections closed by the sidecar (slowest " + slowest + " ms)";
    }

    // ---- Bolt

    @Test
    @Order(1)
    void boltRandomGarbage() throws Exception {
        rig.attack("Bolt: random garbage (16 KB per conn)")
                .expectLog("limits.log", "malformed bolt frame")
                .run(() -> garbage(rig.boltPort, 200, 1, new TreeMap<>(), false));
    }

    @Test
    @Order(2)
    void boltTruncatedFramesThenClose() throws Exception {
        long before = rig.holdBolt.bytes.get();
        rig.attack("Bolt: truncated frames then close")
                .noLogExpected("the caller closed mid-frame; nothing was refused")
                .run(() -> {
                    byte[] full = Wire.boltRequest(1, Rig.HOLD_BOLT, 3000, 64 * 1024);
                    long t0 = System.nanoTime();
                    int i = 0;
                    for (; again(t0, i, 300); i++) {
                        try (Socket s = Raw.connect(rig.boltPort)) {
                            Origins.write(s.getOutputStream(), Arrays.copyOf(full, 22 + (i * 997) % (full.length - 22)));
                        }
                    }
                    Thread.sleep(300); // anything forwarded would have reached the provider by now
                    long forwarded = rig.holdBolt.bytes.get() - before;
                    assertEquals(0, forwarded, "no byte of a truncated frame reaches the provider");
                    return i + " partial frames (22 B to 64 KB) then close, 0 bytes forwarded";
                });
    }

    @Test
    @Order(3)
    void boltHugeDeclaredLengths() throws Exception {
        rig.attack("Bolt: huge declared class/header/content lengths")
                .expectLog("limits.log", "malformed bolt frame: bolt frame of \\d+ bytes exceeds the limit")
                .run(() -> {
                    long[][] variants = {{0xffff, 0xffff, 0xffffffffL}, {0, 0, 0x7fffffffL}, {44, 300, 16 << 20}};
                    int closed = 0;
                    long slowest = 0;
                    for (long[] v : variants) {
                        for (int i = 0; i < 30; i++) {
                            try (Socket s = Raw.connect(rig.boltPort)) {
                                Origins.write(s.getOutputStream(), Wire.boltHeaderDeclaring((int) v[0], (int) v[1], v[2]));
                                Raw.End e = Raw.awaitClose(s, 3000);
                                closed += e.closed() ? 1 : 0;
                                slowest = Math.max(slowest, e.millis());
                            }
                        }
                    }
                    assertEquals(90, closed);
                    // under the limit: the body is awaited, never allocated ahead of its bytes
                    double rss = rig.remora.rssMb();
                    List<Socket> held = new ArrayList<>();
                    try {
                        for (int i = 0; i < 500; i++) {
                            Socket s = Raw.connect(rig.boltPort);
                            held.add(s);
                            Origins.write(s.getOutputStream(), Wire.boltHeaderDeclaring(44, 300, (16 << 20) - 1000));
                        }
                        Thread.sleep(500);
                        double grown = rig.remora.rssMb() - rss;
                        assertTrue(grown < 64, "500 frames declaring 16 MB each: RSS grew " + grown + " MB");
                        return "90/90 over max_frame_bytes closed at the header (slowest " + slowest + " ms); 500 "
                                + "declaring 16 MB - 1000 B each held with RSS +" + Math.round(grown) + " MB";
                    } finally {
                        for (Socket s : held) {
                            s.close();
                        }
                    }
                });
    }

    @Test
    @Order(4)
    void boltV2BadCrc() throws Exception {
        long before = rig.holdBolt.bytes.get();
        rig.attack("Bolt v2: bad CRC32 (50 conns)")
                .expectLog("limits.log", "malformed bolt frame: bolt v2 CRC32 mismatch")
                .run(() -> {
                    Map<String, String> h = new LinkedHashMap<>();
                    h.put("service", Rig.HOLD_BOLT);
                    byte[] f = BoltFrames.build(BoltFrames.Spec.request(9, 3000,
                            "com.alipay.sofa.rpc.core.request.SofaRequest", h, new byte[512]).v2(2, 1));
                    f[f.length - 1] ^= 0x55;
                    int closed = 0;
                    for (int i = 0; i < 50; i++) {
                        try (Socket s = Raw.connect(rig.boltPort)) {
                            Origins.write(s.getOutputStream(), f);
                            closed += Raw.awaitClose(s, 3000).closed() ? 1 : 0;
                        }
                    }
                    Thread.sleep(300);
                    assertEquals(50, closed);
                    assertEquals(0, rig.holdBolt.bytes.get() - before, "a frame failing its CRC is not forwarded");
                    return "50/50 closed, 0 bytes forwarded (before the fix: forwarded with a recomputed, valid CRC)";
                });
    }

    // ---- Dubbo

    @Test
    @Order(10)
    void dubboRandomGarbage() throws Exception {
        rig.attack("Dubbo: random garbage (16 KB per conn)")
                .expectLog("limits.log", "malformed dubbo frame")
                .run(() -> garbage(rig.dubboPort, 200, 2, new TreeMap<>(), false));
    }

    private static byte[] holdDubboRequest(long id, int argBytes) {
        ByteArrayOutputStream o = Wire.dubboLeading(Rig.HOLD_DUBBO);
        o.write('B');
        o.write(argBytes >> 8);
        o.write(argBytes);
        o.writeBytes(new byte[argBytes]);
        Wire.dubboAttachments(o, Rig.HOLD_DUBBO);
        return Wire.dubboFrame(id, o.toByteArray());
    }

    @Test
    @Order(11)
    void dubboTruncatedFramesThenClose() throws Exception {
        long before = rig.holdDubbo.bytes.get();
        rig.attack("Dubbo: truncated frames then close")
                .noLogExpected("the caller closed mid-frame; nothing was refused")
                .run(() -> {
                    byte[] full = holdDubboRequest(1, 60_000);
                    long t0 = System.nanoTime();
                    int i = 0;
                    for (; again(t0, i, 300); i++) {
                        try (Socket s = Raw.connect(rig.dubboPort)) {
                            Origins.write(s.getOutputStream(), Arrays.copyOf(full, 1 + (i * 997) % (full.length - 1)));
                        }
                    }
                    Thread.sleep(300);
                    assertEquals(0, rig.holdDubbo.bytes.get() - before, "nothing of a truncated frame is forwarded");
                    return i + " partial frames (1 B to 60 KB) then close, 0 bytes forwarded";
                });
    }

    @Test
    @Order(12)
    void dubboHugeBodyLength() throws Exception {
        rig.attack("Dubbo: 2 GB / 4 GB body lengths")
                .expectLog("limits.log", "malformed dubbo frame: dubbo frame")
                .run(() -> {
                    long[] lengths = {0x80000000L, 0x7fffffffL, 0xffffffffL, (16 << 20) + 1};
                    int closed = 0;
                    long t0 = System.nanoTime();
                    int i = 0;
                    for (; again(t0, i, 100); i++) {
                        try (Socket s = Raw.connect(rig.dubboPort)) {
                            Origins.write(s.getOutputStream(), Wire.dubboHeader(Wire.DUBBO_TWOWAY, i,
                                    lengths[i % lengths.length]));
                            closed += Raw.awaitClose(s, 3000).closed() ? 1 : 0;
                        }
                    }
                    assertEquals(i, closed);
                    return closed + "/" + i + " closed at the 16-byte header (2 GB, 2 GB - 1, 4 GB - 1, 16 MiB + 1)";
                });
    }

    @Test
    @Order(13)
    void dubboHostileHessianBodies() throws Exception {
        rig.attack("Dubbo: Hessian2 nesting depth 10,000 and lengths past the body end")
                .expectLog("limits.log", "dubbo request .*not routable: .*(nesting deeper than 128|past the body end)")
                .run(() -> {
                    Map<String, Integer> answers = new TreeMap<>();
                    try (RawDubboClient c = new RawDubboClient(rig.dubboPort)) {
                        byte[][] bodies = {Wire.dubboNestedBody(Rig.DEMO, 10_000), Wire.dubboLengthPastEnd(Rig.DEMO),
                            Wire.dubboServiceLengthPastEnd()};
                        long id = 1;
                        for (int round = 0; round < 100; round++) {
                            for (byte[] body : bodies) {
                                c.send(Wire.dubboFrame(id, body));
                                RawDubboClient.Frame f = c.read();
                                assertEquals(id, f.id());
                                String msg = String.valueOf(f.result());
                                answers.merge(f.status() + " " + msg.replaceAll(".*\\(dubbo: ([^:;]+).*", "$1"), 1,
                                        Integer::sum);
                                assertEquals(60, f.status(), msg);
                                id++;
                            }
                        }
                        c.send(RawDubboClient.request(id, Rig.DEMO, "g1", "sayHello", "after"));
                        RawDubboClient.Frame ok = c.read();
                        assertEquals(20, ok.status(), "the same connection still serves a valid request");
                        return "300 requests answered 60 SERVICE_NOT_FOUND, same connection: " + answers
                                + "; then a valid call on it: " + ok.result();
                    }
                });
    }

    // ---- HTTP/1.1

    @Test
    @Order(20)
    void httpRandomGarbage() throws Exception {
        Map<Integer, Integer> statuses = new TreeMap<>();
        rig.attack("HTTP/1.1: random garbage (60 conns × 16 KB)")
                .defaultLogAt("INFO")
                .expectLog("default.log", "closing HTTP connection from .* (400|414|431) ", 3)
                .unthrottled(HTTP1_LOG_GAP)
                .run(() -> garbage(rig.httpPort, 60, 3, statuses, true) + ", answers " + statuses);
    }

    /** What the HTTP/1.1 rejections' log lines lack (protocol-http's, not changed here). */
    static final String HTTP1_LOG_GAP = "protocol-http logs each refused HTTP/1.1 connection at INFO in default.log "
            + "(invisible at the default ERROR level) and does not rate-limit the line";

    @Test
    @Order(21)
    void httpTruncatedThenClose() throws Exception {
        long before = rig.origin.requests.get();
        rig.attack("HTTP/1.1: truncated heads then close")
                .noLogExpected("the caller closed mid-head; nothing was refused")
                .run(() -> {
                    byte[] head = Raw.ascii("GET /attack/t HTTP/1.1\r\nHost: a\r\nX-Truncated: abcdefgh\r\n\r\n");
                    long t0 = System.nanoTime();
                    int i = 0;
                    for (; again(t0, i, 300); i++) {
                        try (Socket s = Raw.connect(rig.httpPort)) {
                            Origins.write(s.getOutputStream(), Arrays.copyOf(head, 1 + i % (head.length - 3)));
                        }
                    }
                    Thread.sleep(300);
                    assertEquals(0, rig.origin.requests.get() - before, "no truncated head reaches the origin");
                    return i + " partial heads then close, 0 requests at the origin";
                });
    }

    private static Raw.End oneRequest(byte[] request) throws IOException {
        try (Socket s = Raw.connect(rig.httpPort)) {
            Origins.write(s.getOutputStream(), request);
            return Raw.awaitClose(s, 5000);
        }
    }

    @Test
    @Order(22)
    void httpHeaderFlood() throws Exception {
        rig.attack("HTTP/1.1: header flood (5,000 headers; 150 small ones), 40 conns")
                .defaultLogAt("INFO")
                .expectLog("default.log", "closing HTTP connection from .* 431 ", 3)
                .unthrottled(HTTP1_LOG_GAP)
                .run(() -> {
                    StringBuilder big = new StringBuilder("GET /attack HTTP/1.1\r\nHost: a\r\n");
                    for (int i = 0; i < 5000; i++) {
                        big.append("X-Flood-").append(i).append(": v\r\n");
                    }
                    StringBuilder many = new StringBuilder("GET /attack HTTP/1.1\r\nHost: a\r\n");
                    for (int i = 0; i < 150; i++) {
                        many.append("a").append(i).append(": b\r\n");
                    }
                    Map<String, Integer> got = new TreeMap<>();
                    long t0 = System.nanoTime();
                    int n = 0;
                    for (int i = 0; i < 20; i++) {
                        pace(t0, i, 20);
                        for (String r : List.of(big + "\r\n", many + "\r\n")) {
                            n++;
                            Raw.End e = oneRequest(Raw.ascii(r));
                            assertTrue(e.closed(), "closed");
                            got.merge(e.httpStatus() == 0 ? "reset" : String.valueOf(e.httpStatus()), 1, Integer::sum);
                        }
                    }
                    assertTrue(got.keySet().stream().allMatch(k -> k.equals("431") || k.equals("reset")), got.toString());
                    return n + " connections: " + got + ", each closed";
                });
    }

    @Test
    @Order(23)
    void httpMegabyteHeaderLine() throws Exception {
        rig.attack("HTTP/1.1: 1 MB header line (10 conns)")
                .defaultLogAt("INFO")
                .expectLog("default.log", "closing HTTP connection from .* 431 ", 3)
                .unthrottled(HTTP1_LOG_GAP)
                .run(() -> {
                    Map<String, Integer> got = new TreeMap<>();
                    long sentMax = 0;
                    long t0 = System.nanoTime();
                    int i = 0;
                    for (; i < 10; i++) {
                        pace(t0, i, 10);
                        try (Socket s = Raw.connect(rig.httpPort)) {
                            OutputStream o = s.getOutputStream();
                            o.write(Raw.ascii("GET /attack HTTP/1.1\r\nHost: a\r\nX-Big: "));
                            byte[] chunk = new byte[16 * 1024];
                            Arrays.fill(chunk, (byte) 'a');
                            long sent = 0;
                            while (sent < (1 << 20) && Origins.write(o, chunk)) {
                                sent += chunk.length;
                            }
                            sentMax = Math.max(sentMax, sent);
                            Raw.End e = Raw.awaitClose(s, 5000);
                            assertTrue(e.closed());
                            got.merge(e.httpStatus() == 0 ? "reset" : String.valueOf(e.httpStatus()), 1, Integer::sum);
                        }
                    }
                    assertTrue(got.keySet().stream().allMatch(k -> k.equals("431") || k.equals("reset")), got.toString());
                    return i + " connections: " + got + ", closed (the sidecar stopped at 8 KB; attacker wrote up to "
                            + sentMax / 1024 + " KB)";
                });
    }

    @Test
    @Order(24)
    void httpMalformedRequestLines() throws Exception {
        String[] lines = {
            "GET\r\n\r\n",
            "G\u0000ET / HTTP/1.1\r\nHost: a\r\n\r\n",
            "GET /attack HTTP/1.1 trailing\r\nHost: a\r\n\r\n",
            "\r\n\r\n\r\n\r\nFOO\r\n\r\n",
            "GET /" + "a".repeat(10_000) + " HTTP/1.1\r\nHost: a\r\n\r\n",
            "GET /attack HTTP/1.1\r\nHost: a\r\nBad Header Name: x\r\n\r\n",
            "GET /attack HTTP/1.1\r\nHost: a\r\n: empty-name\r\n\r\n",
            "POST /attack HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
            "POST /attack HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
            "POST /attack HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n",
        };
        long before = rig.origin.requests.get();
        rig.attack("HTTP/1.1: malformed request lines and framing (10 kinds × 5)")
                .defaultLogAt("INFO")
                .expectLog("default.log", "closing HTTP connection from .* (400|414|431|505) ", 3)
                .unthrottled(HTTP1_LOG_GAP)
                .run(() -> {
                    Map<String, Integer> got = new TreeMap<>();
                    List<String> notRefused = new ArrayList<>();
                    for (int round = 0; round < 5; round++) {
                        for (String l : lines) {
                            Raw.End e = oneRequest(Raw.ascii(l));
                            String k = e.httpStatus() == 0 ? (e.closed() ? "closed" : "open") : e.httpStatus() + "";
                            got.merge(k, 1, Integer::sum);
                            if (!(e.httpStatus() >= 400 && e.httpStatus() < 600) || !e.closed()) {
                                notRefused.add(l.substring(0, Math.min(40, l.length())) + " -> " + k);
                            }
                        }
                    }
                    assertTrue(notRefused.isEmpty(), "not refused with an error and a close: " + notRefused);
                    assertEquals(0, rig.origin.requests.get() - before, "none reached the origin");
                    Raw.End v99 = oneRequest(Raw.ascii("GET /attack/v99 HTTP/9.9\r\nHost: a\r\n\r\n"));
                    if (v99.httpStatus() == 200) {
                        AttackReport.note("Finding (protocol-http, not fixed here): a request line with version HTTP/9.9 "
                                + "is accepted and proxied (200); RFC 9112 expects 505 for an unsupported major version.");
                    }
                    return "50 connections: " + got + ", all closed; 0 reached the origin (HTTP/9.9: "
                            + (v99.httpStatus() == 0 ? "closed" : v99.httpStatus()) + ")";
                });
    }

    @Test
    @Order(25)
    void httpSlowloris() throws Exception {
        rig.attack("HTTP/1.1: slowloris (40 conns, 1 byte / 100 ms; request_header_timeout_ms 2000)")
                .defaultLogAt("INFO")
                .expectLog("default.log", "closing HTTP connection from .* 408 request headers not received", 3)
                .unthrottled(HTTP1_LOG_GAP)
                .run(() -> {
                    List<Socket> socks = new ArrayList<>();
                    long[] closedAt = new long[40];
                    int[] status = new int[40];
                    long t0 = System.nanoTime();
                    try {
                        for (int i = 0; i < 40; i++) {
                            Socket s = Raw.connect(rig.httpPort);
                            s.setSoTimeout(1);
                            socks.add(s);
                            Origins.write(s.getOutputStream(), Raw.ascii("GET /attack HTTP/1.1\r\nHost: a\r\nX-Slow: "));
                        }
                        int open = 40;
                        byte[] buf = new byte[4096];
                        while (open > 0 && Raw.ms(t0) < 8000) {
                            for (int i = 0; i < 40; i++) {
                                if (closedAt[i] != 0) {
                                    continue;
                                }
                                Socket s = socks.get(i);
                                try {
                                    int n = s.getInputStream().read(buf);
                                    if (n > 0 && status[i] == 0) {
                                        status[i] = Integer.parseInt(new String(buf, 9, 3, "ISO-8859-1"));
                                    }
                                    if (n < 0) {
                                        closedAt[i] = Raw.ms(t0);
                                        open--;
                                        continue;
                                    }
                                } catch (java.net.SocketTimeoutException e) {
                                    // nothing yet
                                } catch (IOException e) {
                                    closedAt[i] = Raw.ms(t0);
                                    open--;
                                    continue;
                                }
                                Origins.write(s.getOutputStream(), new byte[] {'x'});
                            }
                            Thread.sleep(100); // the trickle: one byte per connection per 100 ms
                        }
                        long min = Arrays.stream(closedAt).min().orElse(0);
                        long max = Arrays.stream(closedAt).max().orElse(0);
                        assertEquals(0, open, "every trickling connection is ended");
                        assertTrue(min >= 1800 && max <= 4500, "ended at the header timeout: " + min + "-" + max + " ms");
                        long s408 = Arrays.stream(status).filter(x -> x == 408).count();
                        return "40/40 ended by the timeout after " + min + "-" + max + " ms of trickling, " + s408
                                + " with 408";
                    } finally {
                        for (Socket s : socks) {
                            s.close();
                        }
                    }
                });
    }

    // ---- HTTP/2 (h2c prior knowledge on the same listener)

    /** Frames a server sent, parsed from raw bytes; the GOAWAY error code if any (else -1). */
    private static int goAwayIn(byte[] bytes) {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        while (b.remaining() >= 9) {
            int len = (b.get() & 0xff) << 16 | (b.get() & 0xff) << 8 | b.get() & 0xff;
            int type = b.get() & 0xff;
            b.get();
            b.getInt();
            if (b.remaining() < len) {
                return -1;
            }
            if (type == Wire.GOAWAY && len >= 8) {
                return b.getInt(b.position() + 4);
            }
            b.position(b.position() + len);
        }
        return -1;
    }

    private static final String[] H2_ERRORS = {"NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR", "FLOW_CONTROL_ERROR",
        "SETTINGS_TIMEOUT", "STREAM_CLOSED", "FRAME_SIZE_ERROR", "REFUSED_STREAM", "CANCEL", "COMPRESSION_ERROR",
        "CONNECT_ERROR", "ENHANCE_YOUR_CALM", "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED"};

    private static String h2Error(int code) {
        return code < 0 ? "no GOAWAY" : code < H2_ERRORS.length ? "GOAWAY " + H2_ERRORS[code] : "GOAWAY " + code;
    }

    @Test
    @Order(30)
    void h2GarbageAfterPreface() throws Exception {
        rig.attack("HTTP/2: garbage after the preface, one per conn")
                .logGap("protocol-http logs no HTTP/2 connection error (Netty answers GOAWAY silently)")
                .run(() -> {
                    Random rnd = new Random(4);
                    Map<String, Integer> got = new TreeMap<>();
                    long t0 = System.nanoTime();
                    int i = 0;
                    for (; again(t0, i, 50); i++) {
                        byte[] g = new byte[16 * 1024];
                        rnd.nextBytes(g);
                        try (Socket s = Raw.connect(rig.httpPort)) {
                            Origins.write(s.getOutputStream(), Wire.PREFACE);
                            Origins.write(s.getOutputStream(), g);
                            Raw.End e = Raw.awaitClose(s, 5000);
                            assertTrue(e.closed(), "closed");
                            got.merge(h2Error(goAwayIn(e.received())), 1, Integer::sum);
                        }
                    }
                    return i + "/" + i + " closed: " + got;
                });
    }

    /**
     * One connection: preface, then {@code frame} repeated while the attacker reads nothing, until the sidecar closes
     * it or {@code maxFrames} were sent. Returns {frames sent, 1 if closed}.
     */
    static long[] controlFlood(int port, byte[] frame, long maxFrames) throws IOException {
        int perChunk = 65536 / frame.length;
        ByteBuffer chunk = ByteBuffer.allocate(perChunk * frame.length);
        for (int i = 0; i < perChunk; i++) {
            chunk.put(frame);
        }
        chunk.flip();
        try (Flood f = new Flood(port, 4096)) {
            f.send(Wire.h2Start(), 2000);
            long budget = maxFrames * frame.length;
            f.send(() -> {
                ByteBuffer b = chunk.duplicate();
                return b;
            }, budget, 2000, 10_000);
            Raw.End e = f.drain(maxFrames == Long.MAX_VALUE ? 5000 : 1500, 1 << 16);
            return new long[] {f.written / frame.length, f.errored || e.closed() ? 1 : 0};
        }
    }

    @Test
    @Order(31)
    void h2ControlFrameBurstNeverRead() throws Exception {
        rig.attack("HTTP/2: SETTINGS and PING bursts never read (5,000 each per conn)")
                .noLogExpected("every frame is answered; the acks wait in the caller's buffers (the flood limit "
                        + "itself: H2FloodAttacksTest)")
                .run(() -> {
                    long t0 = System.nanoTime();
                    int conns = 0;
                    long frames = 0;
                    for (; again(t0, conns, 2); conns++) {
                        byte[] frame = conns % 2 == 0 ? Wire.frame(Wire.SETTINGS, 0, 0, new byte[0])
                                : Wire.frame(Wire.PING, 0, 0, new byte[8]);
                        frames += controlFlood(rig.httpPort, frame, 5000)[0];
                    }
                    return frames + " control frames on " + conns + " connections, acks left unread; the sidecar "
                            + "answered them at its pace (paranoid leak detection: ~0.1 ms per ack buffer)";
                });
    }

    @Test
    @Order(33)
    void h2RapidReset() throws Exception {
        long before = rig.origin.requests.get();
        rig.attack("HTTP/2: rapid reset, HEADERS+RST_STREAM × 10,000 (CVE-2023-44487)")
                .logGap("protocol-http logs no HTTP/2 connection error")
                .run(() -> {
                    byte[] block = Wire.hpackGet("a", "/attack/rr");
                    int[] next = {1};
                    int pairs = 10_000;
                    try (Flood f = new Flood(rig.httpPort, 1 << 20)) {
                        f.send(Wire.h2Start(), 2000);
                        f.send(() -> {
                            if (next[0] > 2 * pairs) {
                                return null;
                            }
                            ByteArrayOutputStream o = new ByteArrayOutputStream();
                            for (int i = 0; i < 100 && next[0] <= 2 * pairs; i++, next[0] += 2) {
                                Wire.frame(o, Wire.HEADERS, Wire.END_HEADERS | Wire.END_STREAM, next[0], block);
                                o.writeBytes(Wire.rstStream(next[0], 8)); // CANCEL
                            }
                            return ByteBuffer.wrap(o.toByteArray());
                        }, Long.MAX_VALUE, 3000, 15_000);
                        Raw.End e = f.drain(5000, 8 << 20);
                        int sent = (next[0] - 1) / 2;
                        Thread.sleep(500); // requests already on their way upstream arrive
                        long atOrigin = rig.origin.requests.get() - before;
                        String goAway = h2Error(goAwayIn(e.received()));
                        assertTrue(e.closed() || f.errored, "the connection is closed");
                        assertEquals("GOAWAY ENHANCE_YOUR_CALM", goAway);
                        assertTrue(atOrigin < 1000, atOrigin + " requests reached the origin");
                        return "up to " + sent + " pairs queued, " + goAway + ", connection closed; the origin saw "
                                + atOrigin + " requests";
                    }
                });
    }

    @Test
    @Order(34)
    void h2ContinuationFlood() throws Exception {
        rig.attack("HTTP/2: CONTINUATION flood without END_HEADERS (CVE-2024-27316 class)")
                .logGap("protocol-http logs no HTTP/2 connection error")
                .run(() -> {
                    Map<String, Integer> got = new TreeMap<>();
                    long[] maxKb = {0};
                    long t0 = System.nanoTime();
                    int round = 0;
                    for (; again(t0, round, 2); round++) {
                        int size = round % 2 == 0 ? 1 : 16_000;
                        byte[] block = Wire.hpackGet("a", "/attack/c");
                        byte[] cont = Wire.frame(Wire.CONTINUATION, 0, 1, new byte[size]);
                        int perChunk = Math.max(1, 65536 / cont.length);
                        ByteBuffer chunk = ByteBuffer.allocate(perChunk * cont.length);
                        for (int i = 0; i < perChunk; i++) {
                            chunk.put(cont);
                        }
                        chunk.flip();
                        try (Flood f = new Flood(rig.httpPort, 1 << 16)) {
                            ByteArrayOutputStream start = new ByteArrayOutputStream();
                            start.writeBytes(Wire.h2Start());
                            Wire.frame(start, Wire.HEADERS, 0, 1, block);
                            f.send(start.toByteArray(), 2000);
                            f.send(() -> chunk.duplicate(), 32L << 20, 2000, 10_000);
                            Raw.End e = f.drain(5000, 1 << 20);
                            assertTrue(e.closed() || f.errored, "closed");
                            String goAway = h2Error(goAwayIn(e.received()));
                            assertTrue(goAway.startsWith("GOAWAY"), goAway);
                            got.merge(size + "-byte frames: " + goAway, 1, Integer::sum);
                            maxKb[0] = Math.max(maxKb[0], f.written / 1024);
                        }
                    }
                    return round + " connections closed: " + got + " (at most " + maxKb[0] + " KB sent on one)";
                });
    }
}
