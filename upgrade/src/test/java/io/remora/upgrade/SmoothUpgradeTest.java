package io.remora.upgrade;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.remora.core.config.ConfigLoader;
import io.remora.testing.TestSidecar;
import io.remora.testkit.dubbo.DemoConsumer;
import io.remora.testkit.dubbo.DemoProvider;
import io.remora.testkit.dubbo.DemoService;
import io.remora.testkit.sofa.HelloService;
import io.remora.testkit.sofa.HelloServiceImpl;
import io.remora.upgrade.testing.RawBolt;
import io.remora.testkit.SidecarProcess;
import io.remora.testkit.sofa.SofaRpcPeers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Real sidecar processes upgraded under load from real SOFARPC and Dubbo clients on persistent connections, with new
 * connections arriving throughout.
 */
class SmoothUpgradeTest {

    private final List<SidecarProcess> processes = new ArrayList<>();
    private final SofaRpcPeers sofa = new SofaRpcPeers();
    private final HelloServiceImpl hello = new HelloServiceImpl();
    private DemoProvider dubboProvider;
    private DemoConsumer dubboConsumer;
    private Load load;
    private Path work;
    private Path config;
    private int adminPort;
    private int boltPort;
    private int dubboPort;

    @BeforeEach
    void startOldSidecarAndPeers() throws Exception {
        work = Files.createTempDirectory("remora-upgrade-test");
        int helloPort = sofa.provide(HelloService.class, hello, null);
        dubboProvider = DemoProvider.start("p1");
        adminPort = TestSidecar.freePort();
        boltPort = TestSidecar.freePort();
        dubboPort = TestSidecar.freePort();
        config = work.resolve("sidecar.json");
        Files.writeString(config, """
                {"admin":{"address":"127.0.0.1","port":%d},
                 "listeners":[
                  {"name":"bolt_in","address":"127.0.0.1:%d","protocol":"bolt","direction":"outbound",
                   "routes":[{"match":{"service":"*"},"cluster":"hello","timeout_ms":8000}]},
                  {"name":"dubbo_in","address":"127.0.0.1:%d","protocol":"dubbo","direction":"outbound",
                   "routes":[{"match":{"service":"*"},"cluster":"demo","timeout_ms":8000}]}],
                 "clusters":[
                  {"name":"hello","lb_policy":"round_robin","hosts":[{"address":"127.0.0.1:%d"}]},
                  {"name":"demo","lb_policy":"round_robin","hosts":[{"address":"127.0.0.1:%d"}]}],
                 "extensions":{"upgrade":{"dir":"%s","drain_timeout_ms":8000}}}
                """.formatted(adminPort, boltPort, dubboPort, helloPort, dubboProvider.port(), work));
        SidecarProcess old = launch("old", false);
        old.awaitReady(30_000);
        load = new Load();
    }

    @AfterEach
    void stopEverything() throws Exception {
        if (load != null) {
            load.close();
        }
        for (SidecarProcess p : processes) {
            p.close();
        }
        if (dubboConsumer != null) {
            dubboConsumer.close();
        }
        sofa.close();
        if (dubboProvider != null) {
            dubboProvider.close();
        }
    }

    @Test
    void upgradeUnderLoadFailsNoRequestAndKeepsConnections() throws Exception {
        SidecarProcess old = processes.get(0);
        startLoad();
        RawBolt idle = new RawBolt(boltPort);
        idle.heartbeat();
        int idlePort = idle.localPort();
        load.awaitOk(200, 20_000);
        double dubboAcceptedBefore = counter("remora_downstream_connections_total", "dubbo_in");
        long okBefore = load.ok.get();

        SidecarProcess next = launch("new", true);
        long t0 = System.nanoTime();
        next.awaitReady(30_000);
        assertEquals(0, old.awaitExit(30_000), old.output());
        long upgradeMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertEquals(next.pid(), states().path("pid").asLong(), "the new process serves the admin port");
        long okAtSwitch = load.ok.get();
        load.awaitOk(okAtSwitch + 200, 20_000); // still served, now by the new process
        load.close();

        idle.heartbeat(); // the idle connection moved: same socket, answered by the new process
        assertEquals(idlePort, idle.localPort());
        idle.close();
        JsonNode up = upgradeStatus();
        assertEquals("done", up.path("state").asText(), up.toPrettyString());
        assertEquals(0, load.failed.get(), "failed requests: " + load.errors);
        assertEquals(dubboAcceptedBefore, counter("remora_downstream_connections_total", "dubbo_in"),
                "the Dubbo client never reconnected (and the accepted-connections counter carried over)");
        assertTrue(up.path("connections").path("migrated").asInt() >= 3, up.toPrettyString());
        System.out.printf("UPGRADE under load: %d ms from start of the new process to exit of the old, handoff "
                        + "%d ms; %d connection(s) migrated, %d drained; requests ok %d (%d before, %d during+after), "
                        + "failed %d, new connections %d%n",
                upgradeMillis, up.path("duration_ms").asLong(), up.path("connections").path("migrated").asInt(),
                up.path("connections").path("drained").asInt(), load.ok.get(), okBefore, load.ok.get() - okBefore,
                load.failed.get(), load.newConnections.get());
    }

    @Test
    void slowInFlightRequestFinishesOnTheOldProcess() throws Exception {
        SidecarProcess old = processes.get(0);
        HelloService slowClient = sofa.consumer(HelloService.class, boltPort, 10_000);
        startLoad();
        load.awaitOk(100, 20_000);
        CompletableFuture<Long> oldExit = old.process().onExit().thenApply(p -> System.nanoTime());
        CompletableFuture<String> slow = CompletableFuture.supplyAsync(() -> slowClient.slow(2500));
        assertTrue(awaitCall("slow:2500"), "the provider got the slow request");

        SidecarProcess next = launch("new", true);
        next.awaitReady(30_000);
        String answer = slow.get(15, TimeUnit.SECONDS);
        long answeredAt = System.nanoTime();
        assertEquals("slept 2500", answer);
        assertEquals(0, old.awaitExit(30_000), old.output());
        assertTrue(oldExit.get(1, TimeUnit.SECONDS) >= answeredAt - TimeUnit.MILLISECONDS.toNanos(50),
                "the old process stayed until the slow request was answered");
        load.awaitOk(load.ok.get() + 100, 20_000);
        load.close();
        assertEquals(0, load.failed.get(), "failed requests: " + load.errors);
        assertEquals("slept 10", slowClient.slow(10), "the slow client's connection works after the move");
        System.out.printf("UPGRADE with a slow request: answered on the old process; requests ok %d, failed %d%n",
                load.ok.get(), load.failed.get());
    }

    @Test
    void newProcessCrashingMidHandoffLeavesTheOldServingThenTwoUpgradesInARow() throws Exception {
        SidecarProcess old = processes.get(0);
        startLoad();
        load.awaitOk(100, 20_000);

        SidecarProcess crashing = launch("crashing", true, "-Dremora.upgrade.test.exitAfterListeners=true");
        assertEquals(3, crashing.awaitExit(30_000), crashing.output());
        long okAfterCrash = load.ok.get();
        load.awaitOk(okAfterCrash + 200, 20_000);
        assertEquals(old.pid(), states().path("pid").asLong(), "the old process still serves");
        assertTrue(old.process().isAlive());
        assertEquals(0, load.failed.get(), "failed requests after the crash: " + load.errors);

        SidecarProcess second = launch("second", true);
        second.awaitReady(30_000);
        assertEquals(0, old.awaitExit(30_000), old.output());
        load.awaitOk(load.ok.get() + 200, 20_000);
        SidecarProcess third = launch("third", true);
        third.awaitReady(30_000);
        assertEquals(0, second.awaitExit(30_000), second.output());
        load.awaitOk(load.ok.get() + 200, 20_000);
        assertEquals(third.pid(), states().path("pid").asLong());
        load.close();
        assertEquals(0, load.failed.get(), "failed requests: " + load.errors);
        System.out.printf("UPGRADE crash then two in a row: requests ok %d, failed %d, new connections %d%n",
                load.ok.get(), load.failed.get(), load.newConnections.get());
    }

    @Test
    void newProcessOnNioRefusesTheUpgradeAndTheOldKeepsServing() throws Exception {
        SidecarProcess old = processes.get(0);
        startLoad();
        load.awaitOk(100, 20_000);
        SidecarProcess nio = launch("nio", true, "-Dremora.transport=nio");
        int code = nio.awaitExit(30_000);
        assertTrue(code != 0, "the NIO process must not start: " + nio.output());
        assertTrue(nio.output().contains("upgrade: refused: the transport is nio"), nio.output());
        assertTrue(nio.output().contains("cannot bind"), nio.output());
        load.awaitOk(load.ok.get() + 100, 20_000);
        assertEquals(old.pid(), states().path("pid").asLong());
        load.close();
        assertEquals(0, load.failed.get(), "failed requests: " + load.errors);
    }

    // ------------------------------------------------------------------ helpers

    private SidecarProcess launch(String name, boolean upgrade, String... props) throws Exception {
        SidecarProcess p = SidecarProcess.start(config, work, name, upgrade, props);
        processes.add(p);
        return p;
    }

    /** Two SOFARPC clients and one Dubbo client on persistent connections, plus a new bolt connection each ~20 ms. */
    private void startLoad() {
        HelloService a = sofa.consumer(HelloService.class, boltPort, 8000);
        HelloService b = sofa.consumer(HelloService.class, boltPort, 8000);
        dubboConsumer = new DemoConsumer("upgrade-test-consumer");
        DemoService d = dubboConsumer.demo(dubboPort, "g1", 8000, 0);
        load.run("sofa-a", () -> check(a.sayHello("a"), "hello a"));
        load.run("sofa-b", () -> check(b.sayHello("b"), "hello b"));
        load.run("dubbo", () -> check(d.sayHello("d"), "hello d from p1"));
        load.run("new-connections", () -> {
            try (RawBolt r = new RawBolt(boltPort)) {
                r.heartbeat();
            }
            load.newConnections.incrementAndGet();
            Thread.sleep(20);
            return null;
        });
    }

    private static Object check(String got, String want) {
        if (!want.equals(got)) {
            throw new IllegalStateException("got " + got);
        }
        return got;
    }

    private boolean awaitCall(String call) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < end) {
            String c = hello.calls().poll(100, TimeUnit.MILLISECONDS);
            if (call.equals(c)) {
                return true;
            }
        }
        return false;
    }

    private JsonNode states() throws Exception {
        return ConfigLoader.mapper().readTree(SidecarProcess.get(adminPort, "/api/v1/states"));
    }

    private JsonNode upgradeStatus() throws Exception {
        return ConfigLoader.mapper().readTree(SidecarProcess.get(adminPort, "/api/v1/upgrade"));
    }

    private double counter(String name, String listener) throws Exception {
        String metrics = SidecarProcess.get(adminPort, "/metrics");
        Matcher m = Pattern.compile("(?m)^" + name + "\\{[^}]*listener=\"" + listener + "\"[^}]*} (\\S+)")
                .matcher(metrics);
        if (!m.find()) {
            throw new AssertionError("no " + name + " for " + listener + " in\n" + metrics);
        }
        return Double.parseDouble(m.group(1));
    }

    /** Client threads calling in a loop, counting answers and failures. */
    private static final class Load implements AutoCloseable {
        final AtomicLong ok = new AtomicLong();
        final AtomicLong failed = new AtomicLong();
        final AtomicLong newConnections = new AtomicLong();
        final ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
        private final List<Thread> threads = new ArrayList<>();
        private volatile boolean running = true;

        void run(String name, Callable<?> call) {
            Thread t = new Thread(() -> {
                while (running) {
                    try {
                        call.call();
                        ok.incrementAndGet();
                    } catch (InterruptedException e) {
                        return;
                    } catch (Exception e) {
                        failed.incrementAndGet();
                        if (errors.size() < 20) {
                            errors.add(name + ": " + e);
                        }
                    }
                }
            }, "load-" + name);
            t.setDaemon(true);
            t.start();
            threads.add(t);
        }

        void awaitOk(long n, long timeoutMillis) throws InterruptedException {
            long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
            while (ok.get() < n) {
                if (System.nanoTime() > end) {
                    throw new AssertionError("only " + ok.get() + " of " + n + " requests answered; errors " + errors);
                }
                Thread.sleep(10); // counting answers of other threads
            }
        }

        @Override
        public void close() throws InterruptedException {
            running = false;
            for (Thread t : threads) {
                t.join(10_000);
            }
        }
    }
}
