package io.remora.xds;

import static io.remora.testkit.xds.EnvoyResources.edsCluster;
import static io.remora.testkit.xds.EnvoyResources.endpoint;
import static io.remora.testkit.xds.EnvoyResources.endpoints;
import static io.remora.testkit.xds.EnvoyResources.route;
import static io.remora.testkit.xds.EnvoyResources.routeConfig;
import static io.remora.testkit.xds.EnvoyResources.rpcListener;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.alipay.remoting.BizContext;
import com.alipay.remoting.rpc.RpcClient;
import com.alipay.remoting.rpc.RpcServer;
import com.alipay.remoting.rpc.protocol.SyncUserProcessor;
import com.fasterxml.jackson.databind.JsonNode;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.HealthStatus;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.remora.core.cluster.Host;
import io.remora.core.config.ConfigLoader;
import io.remora.core.config.ConfigSnapshot;
import io.remora.testing.TestSidecar;
import io.remora.testkit.xds.ControlPlane;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/**
 * EDS changes under continuous Bolt traffic: an endpoint added, weights changed, an endpoint removed (its server stays
 * up until the sidecar applied the removal) — no call may fail. Then a 10,000-endpoint push under the same load, with
 * the p99 latency of the calls in the second before and the second after it printed (never asserted).
 */
class XdsEndpointChurnTest {

    private static final int THREADS = 8;

    /** A Bolt echo server counting calls, and calls in flight. */
    private static final class Echo {
        final int port = TestSidecar.freePort();
        final AtomicInteger calls = new AtomicInteger();
        final AtomicInteger inFlight = new AtomicInteger();
        final RpcServer server = new RpcServer("127.0.0.1", port, false);

        Echo(String tag) {
            server.registerUserProcessor(new SyncUserProcessor<String>() {
                @Override
                public Object handleRequest(BizContext ctx, String request) {
                    inFlight.incrementAndGet();
                    calls.incrementAndGet();
                    try {
                        return tag + ":" + request;
                    } finally {
                        inFlight.decrementAndGet();
                    }
                }

                @Override
                public String interest() {
                    return String.class.getName();
                }
            });
            server.startup();
        }
    }

    private static Snapshot snapshot(String version, List<LbEndpoint> echo, List<LbEndpoint> bulk) {
        List<Cluster> clusters = new ArrayList<>(List.of(edsCluster("echo", "bolt")));
        List<ClusterLoadAssignment> clas = new ArrayList<>(List.of(endpoints("echo", echo)));
        if (bulk != null) {
            clusters.add(edsCluster("bulk", "bolt"));
            clas.add(endpoints("bulk", bulk));
        }
        return Snapshot.create(clusters, clas,
                List.of(rpcListener("egress_bolt", "127.0.0.1", 0,
                        "{\"protocol\":\"bolt\",\"direction\":\"outbound\",\"route_config\":\"rpc_routes\"}")),
                List.of(routeConfig("rpc_routes", route("java.lang.String", null, "echo", 3000))),
                List.of(), version);
    }

    private static LbEndpoint ep(Echo e, int weight) {
        return endpoint("127.0.0.1", e.port, weight, Map.of(), HealthStatus.HEALTHY);
    }

    @Test
    void endpointChangesUnderLoadFailNoCall() throws Exception {
        Echo a = new Echo("A");
        Echo b = new Echo("B");
        Echo c = new Echo("C");
        RpcClient client = new RpcClient();
        client.startup();
        List<Thread> threads = new ArrayList<>();
        // per call: start (ns since t0) and latency (ns), appended by the callers
        ConcurrentLinkedQueue<long[]> samples = new ConcurrentLinkedQueue<>();
        AtomicLong ok = new AtomicLong();
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        AtomicInteger stop = new AtomicInteger();
        try (ControlPlane cp = new ControlPlane(0);
             TestSidecar sidecar = TestSidecar.start("""
                     {"admin":{"port":0},"worker_threads":2,
                      "node":{"id":"sidecar~127.0.0.1~demo.default~default.svc.cluster.local","app":"demo"},
                      "extensions":{"xds":{"address":"127.0.0.1:%d"}}}""".formatted(cp.port()))) {
            cp.push(snapshot("1", List.of(ep(a, 1), ep(b, 1)), null));
            await("ready", () -> sidecar.admin("GET", "/ready", null).status() == 200);
            String target = "127.0.0.1:" + sidecar.port("egress_bolt");
            long t0 = System.nanoTime();
            for (int i = 0; i < THREADS; i++) {
                int id = i;
                Thread t = new Thread(() -> {
                    long n = 0;
                    while (stop.get() == 0) {
                        String req = id + "-" + n++;
                        long s = System.nanoTime();
                        try {
                            Object r = client.invokeSync(target, req, 3000);
                            long e = System.nanoTime();
                            if (r instanceof String str && str.endsWith(":" + req)) {
                                ok.incrementAndGet();
                                samples.add(new long[] {s - t0, e - s});
                            } else {
                                failures.add(req + " -> " + r);
                            }
                        } catch (Exception ex) {
                            failures.add(req + " -> " + ex);
                        }
                    }
                }, "caller-" + i);
                t.start();
                threads.add(t);
            }
            await("traffic on A and B", () -> a.calls.get() > 200 && b.calls.get() > 200);

            cp.push(snapshot("2", List.of(ep(a, 1), ep(b, 1), ep(c, 1)), null));
            await("C added", () -> hosts(sidecar, "echo").length == 3);
            await("traffic on C", () -> c.calls.get() > 200);

            cp.push(snapshot("3", List.of(ep(a, 5), ep(b, 1), ep(c, 1)), null));
            await("weights changed", () -> Arrays.stream(hosts(sidecar, "echo")).anyMatch(h -> h.weight() == 5));
            int aBefore = a.calls.get();
            int cBefore = c.calls.get();
            await("A favoured", () -> a.calls.get() - aBefore > 2000);
            System.out.printf("xds churn: after weights 5:1:1, A got %d calls while C got %d%n",
                    a.calls.get() - aBefore, c.calls.get() - cBefore);

            cp.push(snapshot("4", List.of(ep(a, 5), ep(c, 1)), null));
            await("B removed", () -> hosts(sidecar, "echo").length == 2);
            // B stays up until nothing is in flight there and no new call arrives (calls picked before the apply)
            await("B quiet", () -> {
                int before = b.calls.get();
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
                return b.inFlight.get() == 0 && b.calls.get() == before;
            });
            b.server.shutdown();
            int aAfterRemoval = a.calls.get();
            await("traffic after removal", () -> a.calls.get() - aAfterRemoval > 2000);

            List<LbEndpoint> many = new ArrayList<>();
            for (int i = 0; i < 10_000; i++) {
                many.add(endpoint("10.2." + (i / 250) + "." + (i % 250 + 1), 12200, 1 + i % 3,
                        Map.of("zone", "z" + i % 4), HealthStatus.HEALTHY));
            }
            Thread.sleep(1000); // a full second of steady traffic before the push, to compare with
            long push = System.nanoTime() - t0;
            cp.push(snapshot("5", List.of(ep(a, 5), ep(c, 1)), many));
            await("10000 endpoints", () -> hosts(sidecar, "bulk").length == 10_000);
            long applied = System.nanoTime() - t0;
            long after = Math.max(applied, push + 1_000_000_000L);
            await("a second after the push", () -> System.nanoTime() - t0 > after);
            stop.set(1);
            for (Thread t : threads) {
                t.join(10_000);
            }
            List<long[]> all = new ArrayList<>(samples);
            JsonNode st = ConfigLoader.mapper().readTree(sidecar.admin("GET", "/api/v1/xds", null).body());
            System.out.printf("xds churn: %d threads, %d calls ok, %d failed; 10000-endpoint push seen applied after "
                            + "%d ms (core apply %d ms, whole EDS response %d ms)%n", THREADS, ok.get(),
                    failures.size(), (applied - push) / 1_000_000, st.get("last_apply_ms").asLong(),
                    st.at("/types/eds/last_process_ms").asLong());
            System.out.println("xds churn: p99 second before push: " + p99(all, push - 1_000_000_000L, push)
                    + "; second after push: " + p99(all, push, push + 1_000_000_000L)
                    + "; push..applied: " + p99(all, push, applied));
            assertTrue(failures.isEmpty(), failures.size() + " failed calls, e.g. " + failures.peek());
            assertEquals(10_000, hosts(sidecar, "bulk").length);
        } finally {
            stop.set(1);
            client.shutdown();
            a.server.shutdown();
            c.server.shutdown();
            if (b.server.isStarted()) {
                b.server.shutdown();
            }
        }
    }

    private static Host[] hosts(TestSidecar sidecar, String cluster) {
        ConfigSnapshot s = sidecar.sidecar().config().current();
        return s.cluster(cluster) == null ? new Host[0] : s.cluster(cluster).hosts();
    }

    /** "p99 X ms (n calls, max Y ms)" of the calls started in [from, to) ns. */
    private static String p99(List<long[]> samples, long from, long to) {
        long[] lat = samples.stream().filter(x -> x[0] >= from && x[0] < to).mapToLong(x -> x[1]).sorted().toArray();
        if (lat.length == 0) {
            return "no calls";
        }
        return String.format("p99 %.2f ms (%d calls, p50 %.2f ms, max %.2f ms)",
                lat[Math.min(lat.length - 1, (int) Math.ceil(lat.length * 0.99) - 1)] / 1e6, lat.length,
                lat[lat.length / 2] / 1e6, lat[lat.length - 1] / 1e6);
    }

    private static void await(String what, BooleanSupplier cond) throws InterruptedException {
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(20);
        }
    }
}
