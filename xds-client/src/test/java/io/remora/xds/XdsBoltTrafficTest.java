package io.remora.xds;

import static io.remora.testkit.xds.EnvoyResources.edsCluster;
import static io.remora.testkit.xds.EnvoyResources.endpoint;
import static io.remora.testkit.xds.EnvoyResources.endpoints;
import static io.remora.testkit.xds.EnvoyResources.route;
import static io.remora.testkit.xds.EnvoyResources.routeConfig;
import static io.remora.testkit.xds.EnvoyResources.rpcListener;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.alipay.remoting.BizContext;
import com.alipay.remoting.rpc.RpcClient;
import com.alipay.remoting.rpc.RpcServer;
import com.alipay.remoting.rpc.protocol.SyncUserProcessor;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.envoyproxy.envoy.config.core.v3.HealthStatus;
import io.remora.testing.TestSidecar;
import io.remora.testkit.xds.ControlPlane;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A Bolt call proxied by a sidecar whose whole config came over xDS, and re-pointed by an EDS push. */
class XdsBoltTrafficTest {

    private static RpcServer echo(int port, String tag) {
        RpcServer s = new RpcServer("127.0.0.1", port, false);
        s.registerUserProcessor(new SyncUserProcessor<String>() {
            @Override
            public Object handleRequest(BizContext ctx, String request) {
                return tag + ":" + request;
            }

            @Override
            public String interest() {
                return String.class.getName();
            }
        });
        s.startup();
        return s;
    }

    private static Snapshot snapshot(String version, int endpointPort) {
        return Snapshot.create(List.of(edsCluster("echo", "bolt")),
                List.of(endpoints("echo", List.of(endpoint("127.0.0.1", endpointPort, 1, Map.of(),
                        HealthStatus.HEALTHY)))),
                List.of(rpcListener("egress_bolt", "127.0.0.1", 0,
                        "{\"protocol\":\"bolt\",\"direction\":\"outbound\",\"route_config\":\"rpc_routes\"}")),
                List.of(routeConfig("rpc_routes", route("java.lang.String", null, "echo", 3000))),
                List.of(), version);
    }

    @Test
    void proxiesABoltCallConfiguredEntirelyOverXdsAndFollowsEndpointChanges() throws Exception {
        int portA = TestSidecar.freePort();
        int portB = TestSidecar.freePort();
        RpcServer a = echo(portA, "A");
        RpcServer b = echo(portB, "B");
        RpcClient client = new RpcClient();
        client.startup();
        try (ControlPlane cp = new ControlPlane(0);
             TestSidecar sidecar = TestSidecar.start("""
                     {"admin":{"port":0},"worker_threads":1,
                      "node":{"id":"sidecar~127.0.0.1~demo.default~default.svc.cluster.local","app":"demo"},
                      "extensions":{"xds":{"address":"127.0.0.1:%d"}}}""".formatted(cp.port()))) {
            cp.push(snapshot("1", portA));
            await(() -> sidecar.admin("GET", "/ready", null).status() == 200);
            String target = "127.0.0.1:" + sidecar.port("egress_bolt");
            assertEquals("A:hi", client.invokeSync(target, "hi", 3000));

            cp.push(snapshot("2", portB));
            await(() -> sidecar.sidecar().config().current().source().clusters().get(0).hosts().get(0).address()
                    .equals("127.0.0.1:" + portB));
            assertEquals("B:again", client.invokeSync(target, "again", 3000));
        } finally {
            client.shutdown();
            a.shutdown();
            b.shutdown();
        }
    }

    private static void await(java.util.function.BooleanSupplier c) throws InterruptedException {
        long deadline = System.nanoTime() + 15_000_000_000L;
        while (!c.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out");
            }
            Thread.sleep(20);
        }
    }
}
