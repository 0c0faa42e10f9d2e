package io.remora.filters.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.alipay.sofa.rpc.config.ConsumerConfig;
import io.remora.core.config.ConfigLoader;
import io.remora.testing.TestSidecar;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The cluster's host list is replaced by config applies (a new {@code SidecarConfig} through the running sidecar's
 * {@code ConfigManager}) while several threads call continuously through the sidecar: hosts added, removed (the removed
 * provider stays up, so calls in flight to it can finish) and re-weighted, with zero failed calls.
 */
class HostsChangedUnderLoadTest {

    private static final String CONFIG = """
            {"admin":{"port":0},
             "listeners":[{"name":"egress","address":"127.0.0.1:0","protocol":"bolt",
               "routes":[{"match":{"service":"*"},"cluster":"hello","timeout_ms":5000}]}],
             "clusters":[{"name":"hello","protocol":"bolt","lb_policy":"weighted","hosts":[%s]}]}
            """;
    private final List<Provider> providers = new ArrayList<>();
    private final List<ConsumerConfig<Greeter>> consumers = new ArrayList<>();
    private TestSidecar sidecar;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicLong ok = new AtomicLong();
    private final Queue<String> failures = new ConcurrentLinkedQueue<>();

    @AfterEach
    void stop() {
        running.set(false);
        consumers.forEach(c -> {
            try {
                c.unRefer();
            } catch (RuntimeException ignored) {
                // teardown
            }
        });
        if (sidecar != null) {
            sidecar.close();
        }
        providers.forEach(Provider::close);
    }

    private Provider provider(String id) {
        Provider p = new Provider(id);
        providers.add(p);
        return p;
    }

    private static String hosts(Object... providerAndWeight) {
        List<String> l = new ArrayList<>();
        for (int i = 0; i < providerAndWeight.length; i += 2) {
            l.add("{\"address\":\"" + ((Provider) providerAndWeight[i]).address() + "\",\"weight\":"
                    + providerAndWeight[i + 1] + "}");
        }
        return String.join(",", l);
    }

    /** Applies the same config with a new host list, as the file watcher, xDS or the admin API would. */
    private void apply(String hosts) throws Exception {
        sidecar.sidecar().config().apply(ConfigLoader.parse(CONFIG.formatted(hosts)), "test");
    }

    private void awaitOk(long atLeast) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (ok.get() < atLeast && failures.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertEquals(List.of(), List.copyOf(failures), "failed calls");
        assertTrue(ok.get() >= atLeast, ok.get() + " < " + atLeast + " successful calls");
    }

    private void awaitCalls(Provider p, int atLeast) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (p.calls.get() < atLeast && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertTrue(p.calls.get() >= atLeast, p.id + " got " + p.calls.get() + " calls, expected " + atLeast);
    }

    @Test
    void addingRemovingAndReweightingHostsUnderLoadFailsNoCall() throws Exception {
        Provider a = provider("a");
        Provider b = provider("b");
        Provider c = provider("c");
        sidecar = TestSidecar.start(CONFIG.formatted(hosts(a, 1, b, 1)));
        ExecutorService load = Executors.newFixedThreadPool(4);
        List<Future<?>> loops = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            ConsumerConfig<Greeter> cc = Provider.consumer("caller", sidecar.port("egress"));
            consumers.add(cc);
            Greeter g = cc.refer();
            for (int t = 0; t < 2; t++) {
                loops.add(load.submit(() -> {
                    while (running.get()) {
                        try {
                            g.sayHello("x");
                            ok.incrementAndGet();
                        } catch (RuntimeException e) {
                            failures.add(String.valueOf(e.getMessage()));
                        }
                    }
                }));
            }
        }
        try {
            awaitOk(200);

            // Add a host: it starts taking traffic.
            apply(hosts(a, 1, b, 1, c, 1));
            awaitCalls(c, c.calls.get() + 50);

            // Remove a host whose provider stays up: once calls in flight finish, it gets nothing more.
            apply(hosts(a, 1, c, 1));
            awaitOk(ok.get() + 200);
            int bAfterRemoval = b.calls.get();
            awaitOk(ok.get() + 400);
            assertEquals(bAfterRemoval, b.calls.get(), "a removed host still gets calls");

            // Re-weight: c 9, a 1.
            apply(hosts(a, 1, c, 9));
            awaitOk(ok.get() + 100);
            int a0 = a.calls.get();
            int c0 = c.calls.get();
            awaitOk(ok.get() + 1000);
            int da = a.calls.get() - a0;
            int dc = c.calls.get() - c0;
            // Expected share 0.9 (sd ~0.01 over 1000 draws): 0.8 is far below.
            assertTrue(dc > 0.8 * (da + dc), "c should get ~90%: a=" + da + " c=" + dc);

            // Churn: replace the list repeatedly, each time while calls are running.
            String[] lists = {hosts(b, 1), hosts(a, 2, b, 1, c, 1), hosts(c, 1), hosts(a, 1, b, 5)};
            for (int round = 0; round < 12; round++) {
                apply(lists[round % lists.length]);
                awaitOk(ok.get() + 50);
            }
            assertEquals(2, sidecar.sidecar().config().current().cluster("hello").hosts().length);
        } finally {
            running.set(false);
            load.shutdown();
            assertTrue(load.awaitTermination(20, TimeUnit.SECONDS));
        }
        for (Future<?> f : loops) {
            f.get(1, TimeUnit.SECONDS);
        }
        assertEquals(List.of(), List.copyOf(failures), "failed calls while hosts changed");
    }
}
