package io.remora.dubbo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.remora.testkit.dubbo.DemoConsumer;
import io.remora.testkit.dubbo.DemoProvider;
import io.remora.testkit.dubbo.DemoService;
import io.remora.testkit.dubbo.OtherService;
import io.remora.testkit.dubbo.Person;
import io.remora.dubbo.testing.RawDubboClient;
import io.remora.testing.TestSidecar;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.dubbo.rpc.RpcContext;
import org.apache.dubbo.rpc.RpcException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Real Dubbo 3 consumers and providers talking through an in-process sidecar on 127.0.0.1. */
class DubboSidecarTest {

    private static final String DEMO = DemoService.class.getName();
    private static final String OTHER = OtherService.class.getName();

    private static DemoProvider providerA;
    private static DemoProvider providerB;
    private static TestSidecar sidecar;
    private static DemoConsumer consumer;
    private static int port;
    private static DemoService g1;
    private static DemoService g2;

    @BeforeAll
    static void start() throws Exception {
        providerA = DemoProvider.start("A");
        providerB = DemoProvider.start("B");
        int dead = TestSidecar.freePort();
        sidecar = TestSidecar.start("""
            {"admin":{"port":0},
             "listeners":[{"name":"egress_dubbo","address":"127.0.0.1:0","protocol":"dubbo","direction":"outbound",
               "max_frame_bytes":1048576,
               "routes":[
                 {"match":{"service":"%1$s","method":"slow"},"cluster":"a","timeout_ms":300},
                 {"match":{"service":"%1$s","headers":[{"name":"tenant","exact":"blue"}]},"cluster":"b","timeout_ms":5000},
                 {"match":{"service":"%1$s","headers":[{"name":"group","exact":"g2"}]},"cluster":"b","timeout_ms":5000},
                 {"match":{"service":"%1$s","headers":[{"name":"group","exact":"g1"}]},"cluster":"a","timeout_ms":5000},
                 {"match":{"service":"%2$s"},"cluster":"down","timeout_ms":3000}]},
              {"name":"auto_in","address":"127.0.0.1:0","protocol":"auto","direction":"outbound",
               "routes":[{"match":{"service":"*"},"cluster":"a","timeout_ms":5000}]}],
             "clusters":[
               {"name":"a","hosts":[{"address":"127.0.0.1:%3$d"}]},
               {"name":"b","hosts":[{"address":"127.0.0.1:%4$d"}]},
               {"name":"down","connect_timeout_ms":1000,"hosts":[{"address":"127.0.0.1:%5$d"}]}]}
            """.formatted(DEMO, OTHER, providerA.port(), providerB.port(), dead));
        port = sidecar.port("egress_dubbo");
        consumer = new DemoConsumer("consumer-app");
        g1 = consumer.demo(port, "g1", 5000, 0);
        g2 = consumer.demo(port, "g2", 5000, 0);
    }

    @AfterAll
    static void stop() {
        if (consumer != null) {
            consumer.close();
        }
        if (sidecar != null) {
            sidecar.close();
        }
        if (providerA != null) {
            providerA.close();
        }
        if (providerB != null) {
            providerB.close();
        }
    }

    @Test
    void syncCallGoesThroughTheSidecar() {
        assertEquals("hello world from A", g1.sayHello("world"));
    }

    @Test
    void asyncCallGoesThroughTheSidecar() throws Exception {
        CompletableFuture<String> f = g1.sayHelloAsync("async");
        assertEquals("async hello async from A", f.get(10, TimeUnit.SECONDS));
    }

    @Test
    void onewayCallReachesTheProvider() throws Exception {
        g2.fire("fire-and-forget");
        assertEquals("fire-and-forget", providerB.nextFired(10));
        assertEquals("hello after oneway from B", g2.sayHello("after oneway")); // connection still in step
    }

    @Test
    void pojoCollectionAndLargeStringArgumentsArriveWhole() {
        Person p = new Person("ann", 42, List.of("x", "中文"), Map.of("math", 90, "art", 75));
        assertEquals(p, g1.echo(p));
        List<Person> many = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            many.add(new Person("p" + i, i, List.of("t" + i), new HashMap<>(Map.of("s", i))));
        }
        assertEquals(many, g1.echoAll(many));
        String big = "a".repeat(100_000 - 1) + "Z";
        assertEquals("100000:Z from A", g1.large(big));
    }

    @Test
    void routesByGroup() {
        assertEquals("hello g from A", g1.sayHello("g"));
        assertEquals("hello g from B", g2.sayHello("g"));
    }

    @Test
    void routesByRpcContextAttachment() {
        RpcContext.getClientAttachment().setAttachment("tenant", "blue");
        try {
            assertEquals("blue from B", g1.attachment("tenant"));
        } finally {
            RpcContext.getClientAttachment().removeAttachment("tenant");
        }
        assertEquals("null from A", g1.attachment("tenant"));
    }

    @Test
    void concurrentCallsOverSeveralConnectionsGetTheirOwnAnswers() throws Exception {
        DemoService pooled = consumer.demo(port, "g1", 10_000, 4);
        List<CompletableFuture<String>> calls = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            calls.add(pooled.sayHelloAsync("c" + i));
        }
        for (int i = 0; i < 100; i++) {
            assertEquals("async hello c" + i + " from A", calls.get(i).get(20, TimeUnit.SECONDS));
        }
    }

    /** Raw clients on separate connections all use the same ids: the sidecar's per-upstream ids keep them apart. */
    @Test
    void collidingIdsFromDifferentConnectionsGetTheirOwnAnswers() throws Exception {
        int clients = 4;
        int perClient = 25;
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                int client = c;
                done.add(pool.submit(() -> {
                    try (RawDubboClient raw = new RawDubboClient(port)) {
                        String group = client % 2 == 0 ? "g1" : "g2";
                        for (int id = 1; id <= perClient; id++) {
                            raw.send(RawDubboClient.request(id, DEMO, group, "sayHello", "c" + client + "-" + id));
                        }
                        Map<Long, Object> answers = new HashMap<>();
                        for (int i = 0; i < perClient; i++) {
                            RawDubboClient.Frame f = raw.read();
                            assertEquals(20, f.status());
                            answers.put(f.id(), f.result());
                        }
                        String from = client % 2 == 0 ? "A" : "B";
                        for (long id = 1; id <= perClient; id++) {
                            assertEquals("hello c" + client + "-" + id + " from " + from, answers.get(id));
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(30, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void noRouteShowsTheSidecarMessage() {
        DemoService g3 = consumer.demo(port, "g3", 5000, 0);
        RpcException e = assertThrows(RpcException.class, () -> g3.sayHello("x"));
        assertTrue(e.getMessage().contains("no route for service " + DEMO), e.getMessage());
    }

    @Test
    void providerDownShowsTheSidecarMessage() {
        OtherService other = consumer.service(OtherService.class, port, 5000);
        RpcException e = assertThrows(RpcException.class, () -> other.ping("x"));
        assertTrue(e.getMessage().contains("cannot connect to upstream"), e.getMessage());
    }

    @Test
    void slowProviderGivesATimeoutRpcException() {
        long start = System.nanoTime();
        RpcException e = assertThrows(RpcException.class, () -> g1.slow(2000));
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertTrue(e.isTimeout(), "code " + e.getCode() + ": " + e.getMessage());
        assertTrue(e.getMessage().contains("did not answer"), e.getMessage());
        assertTrue(ms >= 250 && ms < 1900, "took " + ms + " ms");
    }

    @Test
    void errorRepliesUseTheMappedStatusBytesAndKeepTheId() throws Exception {
        try (RawDubboClient raw = new RawDubboClient(port)) {
            raw.send(RawDubboClient.request(Long.MAX_VALUE, DEMO, "g3", "sayHello", "x"));
            RawDubboClient.Frame noRoute = raw.read();
            assertEquals(60, noRoute.status());
            assertEquals(Long.MAX_VALUE, noRoute.id());
            assertEquals(0x02, noRoute.flag());
            assertTrue(((String) noRoute.result()).startsWith("no route for service " + DEMO));
            raw.send(RawDubboClient.request(-7, OTHER, "", "ping", "x"));
            RawDubboClient.Frame down = raw.read();
            assertEquals(80, down.status());
            assertEquals(-7, down.id());
            assertTrue(((String) down.result()).contains("cannot connect to upstream"));
        }
    }

    /** The probe the sidecar sends on idle upstream connections is understood by a real Dubbo provider. */
    @Test
    void realProviderAnswersTheSidecarsHeartbeat() throws Exception {
        try (RawDubboClient raw = new RawDubboClient(providerA.port())) {
            raw.send(Vectors.toBytes(Vectors.CODEC.heartbeat(77, io.netty.buffer.ByteBufAllocator.DEFAULT)));
            RawDubboClient.Frame f = raw.read();
            assertEquals(0x22, f.flag());
            assertEquals(20, f.status());
            assertEquals(77, f.id());
        }
    }

    @Test
    void autoListenerDetectsDubbo() throws Exception {
        try (RawDubboClient raw = new RawDubboClient(sidecar.port("auto_in"))) {
            raw.send(RawDubboClient.request(1, DEMO, "g1", "sayHello", "auto"));
            RawDubboClient.Frame f = raw.read();
            assertEquals(20, f.status());
            assertEquals("hello auto from A", f.result());
        }
    }

    @Test
    void answersHeartbeatLocally() throws Exception {
        try (RawDubboClient raw = new RawDubboClient(port)) {
            raw.send(Vectors.bytes("dubbo_heartbeat_request.bin"));
            RawDubboClient.Frame f = raw.read();
            assertEquals(0x22, f.flag());
            assertEquals(20, f.status());
            assertEquals(9, f.id());
            assertArrayEquals(new byte[] {'N'}, f.body());
        }
    }

    @Test
    void closesOnlyTheConnectionThatSentAMalformedFrame() throws Exception {
        CompletableFuture<String> inFlight = g1.sayHelloAsync("before");
        try (RawDubboClient bad = new RawDubboClient(port)) {
            bad.send("status\r\n".getBytes());
            assertTrue(bad.closedByPeer());
        }
        try (RawDubboClient big = new RawDubboClient(port)) {
            byte[] header = ByteBuffer.allocate(16).putShort((short) 0xdabb).put((byte) 0xC2).put((byte) 0)
                    .putLong(1).putInt(2 * 1024 * 1024).array();
            big.send(header);
            assertTrue(big.closedByPeer());
        }
        assertEquals("async hello before from A", inFlight.get(10, TimeUnit.SECONDS));
        assertEquals("hello after from A", g1.sayHello("after"));
    }

    @Test
    void answersAndLogsARequestWhoseAttachmentsNestTooDeep() throws Exception {
        java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
        for (String lead : new String[] {"2.0.2", DEMO, "1.0.0", "sayHello", "Ljava/lang/Object;"}) {
            byte[] b = lead.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            body.write(0x30 + (b.length >> 8)); // Hessian2 string of up to 1023 chars
            body.write(b.length & 0xff);
            body.writeBytes(b);
        }
        body.writeBytes("W".repeat(10_000).getBytes()); // an argument of 10,000 nested lists
        body.writeBytes("Z".repeat(10_000).getBytes());
        body.writeBytes(new byte[] {'H', 5, 'g', 'r', 'o', 'u', 'p', 2, 'g', '1', 'Z'}); // group=g1: after the args
        byte[] b = body.toByteArray();
        try (RawDubboClient raw = new RawDubboClient(port)) {
            raw.send(ByteBuffer.allocate(16 + b.length).putShort((short) 0xdabb).put((byte) 0xC2).put((byte) 0)
                    .putLong(77).putInt(b.length).put(b).array());
            RawDubboClient.Frame f = raw.read();
            assertEquals(60, f.status(), "SERVICE_NOT_FOUND: the group route cannot match without attachments");
            assertTrue(String.valueOf(f.result()).contains("nesting deeper than 128"), String.valueOf(f.result()));
            raw.send(RawDubboClient.request(78, DEMO, "g1", "sayHello", "next"));
            assertEquals(20, raw.read().status(), "the connection still serves");
        }
        String log = java.nio.file.Files.readString(sidecar.logDir().resolve("limits.log"));
        assertTrue(log.contains("dubbo request from 127.0.0.1 not routable: unreadable attachments: nesting deeper "
                + "than 128"), log);
    }
}
