package io.remora.xds;

import static io.remora.testkit.xds.EnvoyResources.edsCluster;
import static io.remora.testkit.xds.EnvoyResources.endpoint;
import static io.remora.testkit.xds.EnvoyResources.endpoints;
import static io.remora.testkit.xds.EnvoyResources.route;
import static io.remora.testkit.xds.EnvoyResources.routeConfig;
import static io.remora.testkit.xds.EnvoyResources.rpcListener;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.envoyproxy.envoy.config.core.v3.HealthStatus;
import io.remora.testkit.dubbo.DemoConsumer;
import io.remora.testkit.dubbo.DemoProvider;
import io.remora.testkit.dubbo.DemoService;
import io.remora.testing.TestSidecar;
import io.remora.testkit.xds.ControlPlane;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A real Apache Dubbo call through a sidecar configured only over xDS ({@code remora.rpc_proxy} TypedStruct). */
class XdsDubboTrafficTest {

    @Test
    void proxiesADubboCallConfiguredEntirelyOverXds() throws Exception {
        try (DemoProvider provider = DemoProvider.start("A");
             ControlPlane cp = new ControlPlane(0);
             TestSidecar sidecar = TestSidecar.start("""
                     {"admin":{"port":0},"worker_threads":1,
                      "node":{"id":"sidecar~127.0.0.1~shop-0.default~default.svc.cluster.local","app":"shop"},
                      "extensions":{"xds":{"address":"127.0.0.1:%d"}}}""".formatted(cp.port()))) {
            cp.push(Snapshot.create(List.of(edsCluster("demo", "dubbo")),
                    List.of(endpoints("demo", List.of(endpoint("127.0.0.1", provider.port(), 1, Map.of(),
                            HealthStatus.HEALTHY)))),
                    List.of(rpcListener("egress_dubbo", "127.0.0.1", 0,
                            "{\"protocol\":\"dubbo\",\"direction\":\"outbound\",\"route_config\":\"dubbo_routes\"}")),
                    List.of(routeConfig("dubbo_routes", route(DemoService.class.getName(), null, "demo", 5000))),
                    List.of(), "1"));
            long deadline = System.nanoTime() + 15_000_000_000L;
            while (sidecar.admin("GET", "/ready", null).status() != 200) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("sidecar not ready");
                }
                Thread.sleep(20);
            }
            try (DemoConsumer consumer = new DemoConsumer("shop")) {
                DemoService demo = consumer.demo(sidecar.port("egress_dubbo"), "g1", 5000, 0);
                assertEquals("hello xds from A", demo.sayHello("xds"));
                assertEquals("async hello again from A", demo.sayHelloAsync("again").get());
            }
        }
    }
}
