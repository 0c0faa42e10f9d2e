package io.remora.attack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.remora.bolt.testing.BoltFrames;
import io.remora.dubbo.testing.RawDubboClient;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Connection floods and per-connection request limits against a sidecar with lowered limits:
 * {@code max_connections} 10,300, {@code accept_per_second} 1,000 per listener, {@code max_requests_per_connection}
 * 64, HTTP/2 {@code http2_max_concurrent_streams} 100.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ConnectionAttacksTest {

    static final int MAX_CONNECTIONS = 10_300;
    static final int ACCEPT_PER_SECOND = 1000;
    static final int MAX_REQUESTS = 64;
    private static Rig rig;

    @BeforeAll
    static void start() throws Exception {
        rig = Rig.start("connections", "{\"max_connections\": " + MAX_CONNECTIONS + ", \"accept_per_second\": "
                + ACCEPT_PER_SECOND + ", \"max_requests_per_connection\": " + MAX_REQUESTS + "}", null,
                "\"http2_max_concurrent_streams\": \"100\"", Map.of(), false);
    }

    @AfterAll
    static void stop() throws Exception {
        if (rig != null) {
            rig.close();
        }
        AttackReport.print();
    }

    private static SocketChannel open(int port) throws IOException {
        SocketChannel ch = SocketChannel.open();
        ch.setOption(StandardSocketOptions.SO_RCVBUF, 4096);
        ch.connect(new InetSocketAddress("127.0.0.1", port));
        ch.configureBlocking(false);
        return ch;
    }

    /** True if the sidecar reset or closed {@code ch} (a non-blocking read sees it). */
    private static boolean refused(SocketChannel ch) {
        try {
            return ch.read(ByteBuffer.allocate(1)) < 0;
        } catch (IOException e) {
            return true;
        }
    }

    private static void closeAll(List<SocketChannel> chs) {
        for (SocketChannel c : chs) {
            try {
                c.close();
            } catch (IOException ignored) {
                // closing
            }
        }
        chs.clear();
    }

    private static double active() throws IOException {
        return rig.remora.metric("remora_downstream_connections_active");
    }

    private static void awaitActiveBelow(double n) throws Exception {
        for (int i = 0; i < 300 && active() >= n; i++) {
            Thread.sleep(50); // the sidecar closes its ends on its own loops
        }
    }

    private static double rejected(String reason) throws IOException {
        return rig.remora.metric("remora_downstream_connections_rejected_total", "reason=\"" + reason + "\"");
    }

    @Test
    @Order(1)
    void tenThousandIdleConnectionsThenConnectionsPastMaxConnections() throws Exception {
        List<SocketChannel> idle = new ArrayList<>();
        try {
            int[] ports = {rig.boltPort, rig.dubboPort, rig.httpPort};
            double[] rssWith = new double[1];
            rig.attack("10,000 idle connections (Bolt, Dubbo, HTTP listeners)")
                    .noLogExpected("idle connections within every limit are served, not refused")
                    .maxRssMb(450)
                    .run(() -> {
                        double rss0 = rig.remora.rssMb();
                        long t0 = System.nanoTime();
                        while (idle.size() < 10_000) {
                            // paced under accept_per_second: each listener gets 80 per 100 ms
                            for (int i = 0; i < 80 && idle.size() < 10_000; i++) {
                                for (int p : ports) {
                                    if (idle.size() < 10_000) {
                                        idle.add(open(p));
                                    }
                                }
                            }
                            Thread.sleep(100);
                        }
                        long opened = Raw.ms(t0);
                        Thread.sleep(1500); // held idle while the healthy clients call
                        long reset = idle.stream().filter(ConnectionAttacksTest::refused).count();
                        double act = active();
                        rssWith[0] = rig.remora.rssMb();
                        assertEquals(0, reset, "connections within the limits are not reset");
                        assertTrue(act >= 10_000, "the sidecar holds them: active " + act);
                        return String.format("10,000 opened in %d ms and held; 0 reset; %.0f active; sidecar RSS "
                                + "%.1f MB with them (+%.1f MB, %.1f KB per connection)", opened, act, rssWith[0],
                                rssWith[0] - rss0, (rssWith[0] - rss0) * 1024 / 10_000);
                    });
            AttackReport.note(String.format("Sidecar RSS with 10,000 idle connections open: %.1f MB.", rssWith[0]));

            double before = rejected("max_connections");
            List<SocketChannel> more = new ArrayList<>();
            try {
                rig.attack("connections past limits.max_connections (10,300)")
                        .expectLog("limits.log", "reset: limits.max_connections " + MAX_CONNECTIONS + " reached", 2)
                        .maxRssMb(450)
                        .run(() -> {
                            for (int i = 0; i < 600; i++) {
                                more.add(open(rig.boltPort));
                                if (i % 60 == 59) {
                                    Thread.sleep(100);
                                }
                            }
                            Thread.sleep(1000);
                            long reset = more.stream().filter(ConnectionAttacksTest::refused).count();
                            double counted = rejected("max_connections") - before;
                            assertTrue(reset >= 250, "the excess is reset: " + reset);
                            assertEquals(reset, (long) counted, "every reset is counted");
                            return "600 more: " + (600 - reset) + " admitted up to the limit, " + reset
                                    + " reset at accept; metric max_connections +" + (long) counted;
                        });
            } finally {
                closeAll(more);
            }
        } finally {
            closeAll(idle);
            awaitActiveBelow(100);
        }
    }

    @Test
    @Order(2)
    void acceptBurstPastTheAcceptRate() throws Exception {
        double before = rejected("accept_rate");
        List<SocketChannel> burst = new ArrayList<>();
        try {
            rig.attack("accept burst past limits.accept_per_second (1,000/s): 4,000 at once")
                    .expectLog("limits.log", "reset: limits.accept_per_second " + ACCEPT_PER_SECOND + " exceeded", 2)
                    .run(() -> {
                        long t0 = System.nanoTime();
                        for (int i = 0; i < 4000; i++) {
                            burst.add(open(rig.dubboPort));
                        }
                        long took = Raw.ms(t0);
                        Thread.sleep(1000);
                        long reset = burst.stream().filter(ConnectionAttacksTest::refused).count();
                        double counted = rejected("accept_rate") - before;
                        assertTrue(reset > 0, "a burst past the rate is reset");
                        assertEquals(reset, (long) counted, "every reset is counted");
                        return "4,000 connects in " + took + " ms: " + (4000 - reset) + " admitted (burst of one "
                                + "second's worth + refill), " + reset + " reset; metric accept_rate +" + (long) counted;
                    });
        } finally {
            closeAll(burst);
            awaitActiveBelow(100);
        }
    }

    private static byte[] holdBolt(int id) {
        java.util.Map<String, String> h = new java.util.LinkedHashMap<>();
        h.put("service", Rig.HOLD_BOLT);
        h.put("sofa_head_method_name", "hold");
        return BoltFrames.build(BoltFrames.Spec.request(id, 3000, "com.alipay.sofa.rpc.core.request.SofaRequest",
                h, new byte[64]));
    }

    @Test
    @Order(3)
    void boltPipeliningPastMaxRequestsPerConnection() throws Exception {
        rig.attack("Bolt: 200 pipelined requests past limits.max_requests_per_connection (64)")
                .expectLog("limits.log", "limits.max_requests_per_connection", 2)
                .run(() -> {
                    try (Socket s = Raw.connect(rig.boltPort)) {
                        ByteArrayOutputStream all = new ByteArrayOutputStream();
                        for (int i = 1; i <= 200; i++) {
                            all.writeBytes(holdBolt(i));
                        }
                        long t0 = System.nanoTime();
                        Origins.write(s.getOutputStream(), all.toByteArray());
                        InputStream in = s.getInputStream();
                        Map<String, Integer> got = new TreeMap<>();
                        long firstBatch = 0;
                        for (int i = 0; i < 200; i++) {
                            byte[] f = BoltFrames.read(in);
                            int status = BoltFrames.timeoutOrStatus(f);
                            String content = new String(BoltFrames.content(f), java.nio.charset.StandardCharsets.UTF_8);
                            String kind = status == 7 ? "TIMEOUT"
                                    : content.contains("too many requests in flight on this connection (limit 64)")
                                    ? "refused: too many in flight" : "status " + status;
                            got.merge(kind, 1, Integer::sum);
                            if (i == 135) {
                                firstBatch = Raw.ms(t0);
                            }
                        }
                        assertEquals(Map.of("refused: too many in flight", 136, "TIMEOUT", 64), got);
                        return "136 refused at once (SofaResponse error, within " + firstBatch + " ms), 64 forwarded "
                                + "and timed out after 2 s: " + got;
                    }
                });
    }

    @Test
    @Order(4)
    void dubboPipeliningPastMaxRequestsPerConnection() throws Exception {
        rig.attack("Dubbo: 200 pipelined requests past limits.max_requests_per_connection (64)")
                .expectLog("limits.log", "limits.max_requests_per_connection", 2)
                .run(() -> {
                    try (RawDubboClient c = new RawDubboClient(rig.dubboPort)) {
                        ByteArrayOutputStream all = new ByteArrayOutputStream();
                        for (int i = 1; i <= 200; i++) {
                            ByteArrayOutputStream body = Wire.dubboLeading(Rig.HOLD_DUBBO);
                            Wire.hString(body, "x");
                            Wire.dubboAttachments(body, Rig.HOLD_DUBBO);
                            all.writeBytes(Wire.dubboFrame(i, body.toByteArray()));
                        }
                        c.send(all.toByteArray());
                        Map<Integer, Integer> got = new TreeMap<>();
                        for (int i = 0; i < 200; i++) {
                            got.merge(c.read().status(), 1, Integer::sum);
                        }
                        assertEquals(Map.of(100, 136, 31, 64), got, "status -> count");
                        return "136 answered 100 SERVER_THREADPOOL_EXHAUSTED at once, 64 forwarded and answered 31 "
                                + "SERVER_TIMEOUT after 2 s";
                    }
                });
    }

    @Test
    @Order(7)
    void providerThatStopsReading() throws Exception {
        rig.attack("Bolt: 1 MB requests to a provider that stops reading (clusters[].max_queued_bytes 4 MiB)")
                .expectLog("limits.log", "cluster stuck: request refused: \\d+ bytes queued for .* that it does not "
                        + "read", 2)
                .run(() -> {
                    Map<String, Integer> got = new TreeMap<>();
                    long t0 = System.nanoTime();
                    List<Socket> conns = new ArrayList<>();
                    try {
                        for (int c = 0; c < 4; c++) {
                            Socket s = Raw.connect(rig.boltPort);
                            conns.add(s);
                            ByteArrayOutputStream all = new ByteArrayOutputStream();
                            for (int i = 1; i <= 10; i++) {
                                all.writeBytes(Wire.boltRequest(c * 100 + i, Rig.STUCK_BOLT, 3000, 1 << 20));
                            }
                            Origins.write(s.getOutputStream(), all.toByteArray());
                        }
                        long firstRefusal = 0;
                        for (Socket s : conns) {
                            s.setSoTimeout(6000);
                            for (int i = 0; i < 10; i++) {
                                byte[] f = BoltFrames.read(s.getInputStream());
                                int status = BoltFrames.timeoutOrStatus(f);
                                String content = new String(BoltFrames.content(f),
                                        java.nio.charset.StandardCharsets.UTF_8);
                                String kind = status == 7 ? "TIMEOUT" : content.contains("which is not reading")
                                        ? "refused: provider not reading" : "status " + status;
                                if (kind.startsWith("refused") && firstRefusal == 0) {
                                    firstRefusal = Raw.ms(t0);
                                }
                                got.merge(kind, 1, Integer::sum);
                            }
                        }
                        assertTrue(got.getOrDefault("refused: provider not reading", 0) > 0, got.toString());
                        return "40 requests of 1 MB: " + got + " (first refusal after " + firstRefusal + " ms; the "
                                + "held ones time out after the route's 3 s)";
                    } finally {
                        for (Socket s : conns) {
                            s.close();
                        }
                    }
                });
    }

    /** Reads HTTP/1.1 responses until {@code want} arrived or the connection ends; returns how many arrived. */
    private static int readResponses(InputStream in, int want) throws IOException {
        int responses = 0;
        byte[] buf = new byte[65536];
        String tail = "";
        try {
            while (responses < want) {
                int n = in.read(buf);
                if (n < 0) {
                    break;
                }
                String s = tail + new String(buf, 0, n, java.nio.charset.StandardCharsets.ISO_8859_1);
                int idx = 0;
                while ((idx = s.indexOf("HTTP/1.1 200", idx)) >= 0) {
                    responses++;
                    idx += 12;
                }
                tail = s.substring(Math.max(0, s.length() - 11));
            }
        } catch (IOException reset) {
            // the sidecar reset the connection
        }
        return responses;
    }

    @Test
    @Order(5)
    void httpPipeliningFloodWithASlowReader() throws Exception {
        rig.attack("HTTP/1.1: pipelining, 100 then 2,000 requests in one write (reader silent 1 s)")
                .logGap("past Netty's pipeline depth of 128 the connection is reset with a DEBUG line only (no 4xx, "
                        + "no count)")
                .run(() -> {
                    byte[] one = Raw.ascii("GET /attack/p HTTP/1.1\r\nHost: a\r\n\r\n");
                    int served;
                    try (Socket s = Raw.connect(rig.httpPort)) {
                        Origins.write(s.getOutputStream(), Raw.ascii(new String(one, "ISO-8859-1").repeat(100)));
                        served = readResponses(s.getInputStream(), 100);
                    }
                    assertEquals(100, served, "100 pipelined requests are answered in order");
                    try (Flood f = new Flood(rig.httpPort, 4096)) {
                        ByteBuffer all = ByteBuffer.allocate(one.length * 2000);
                        for (int i = 0; i < 2000; i++) {
                            all.put(one);
                        }
                        f.send(all.array(), 3000);
                        Thread.sleep(1000);
                        f.channel.configureBlocking(true);
                        f.channel.socket().setSoTimeout(10_000);
                        int got = readResponses(f.channel.socket().getInputStream(), 2000);
                        assertTrue(got < 2000, "a 2,000-deep pipeline is cut: " + got);
                        return "100 pipelined: all answered in order; 2,000 pipelined: " + got + " answered, then "
                                + "the sidecar reset the connection (Netty's HttpServerCodec: maxPipelineDepth 128)";
                    }
                });
    }

    @Test
    @Order(6)
    void h2StreamsPastMaxConcurrentStreams() throws Exception {
        rig.attack("HTTP/2: 300 held streams past http2_max_concurrent_streams (100)")
                .logGap("protocol-http logs and counts no refused HTTP/2 stream")
                .run(() -> {
                    try (Socket s = Raw.connect(rig.httpPort)) {
                        ByteArrayOutputStream o = new ByteArrayOutputStream();
                        o.writeBytes(Wire.h2Start());
                        byte[] block = Wire.hpackGet("a", "/hold");
                        for (int i = 0; i < 300; i++) {
                            Wire.frame(o, Wire.HEADERS, Wire.END_HEADERS | Wire.END_STREAM, 1 + 2 * i, block);
                        }
                        Origins.write(s.getOutputStream(), o.toByteArray());
                        Map<String, Integer> got = new TreeMap<>();
                        DataInputStream in = new DataInputStream(s.getInputStream());
                        long t0 = System.nanoTime();
                        int ended = 0;
                        while (ended < 300 && Raw.ms(t0) < 8000) {
                            Wire.H2Frame f = Wire.readFrame(in);
                            if (f.type() == Wire.RST_STREAM) {
                                int code = ByteBuffer.wrap(f.payload()).getInt();
                                got.merge(code == 7 ? "RST REFUSED_STREAM" : "RST " + code, 1, Integer::sum);
                                ended++;
                            } else if (f.type() == Wire.HEADERS) {
                                got.merge("response", 1, Integer::sum);
                                if ((f.flags() & Wire.END_STREAM) != 0) {
                                    ended++;
                                }
                            } else if (f.type() == Wire.DATA && (f.flags() & Wire.END_STREAM) != 0) {
                                ended++;
                            } else if (f.type() == Wire.GOAWAY) {
                                got.merge("GOAWAY", 1, Integer::sum);
                                break;
                            }
                        }
                        assertEquals(200, got.getOrDefault("RST REFUSED_STREAM", 0), got.toString());
                        return "300 streams opened at once: " + got + " (the 100 admitted end with the route's "
                                + "2 s timeout, 504)";
                    }
                });
    }
}
