package io.remora.xds;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.HealthStatus;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.remora.core.config.ConfigException;
import io.remora.testing.fuzz.FdpSeed;
import io.remora.testkit.xds.EnvoyResources;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Fuzz target of the xDS translator (docs/fuzzing.md): the fuzz bytes are parsed as an Envoy v3 Listener,
 * RouteConfiguration, Cluster or ClusterLoadAssignment (protobuf wire format; what does not parse is what the gRPC
 * stream would already refuse), and the translator must either translate it or throw {@link ConfigException} with a
 * message (the NACK's error_detail) — never an NPE, a ClassCastException, an IndexOutOfBoundsException or any other
 * unchecked exception, which would break the ADS stream instead of NACKing one resource. Corpus:
 * {@code src/test/resources/io/remora/xds/XdsTranslatorFuzzTestInputs/translate/}.
 */
class XdsTranslatorFuzzTest {

    @FuzzTest(maxDuration = "5m")
    void translate(FuzzedDataProvider data) {
        int kind = data.consumeInt(0, 3);
        byte[] bytes = data.consumeRemainingAsBytes();
        List<String> warnings = new ArrayList<>();
        XdsTranslator t = new XdsTranslator(warnings::add);
        try {
            switch (kind) {
                case 0 -> t.listener(Listener.parseFrom(bytes));
                case 1 -> t.route(RouteConfiguration.parseFrom(bytes));
                case 2 -> t.cluster(Cluster.parseFrom(bytes));
                default -> t.endpoints(ClusterLoadAssignment.parseFrom(bytes));
            }
        } catch (InvalidProtocolBufferException e) {
            return; // not a resource: the gRPC layer rejects it before the translator sees it
        } catch (ConfigException e) {
            if (e.getMessage() == null || e.getMessage().isBlank() || e.problem() == null || e.problem().isBlank()) {
                throw new AssertionError("a rejection without a message: path=" + e.path(), e);
            }
        }
        for (String w : warnings) {
            if (w == null || w.isBlank()) {
                throw new AssertionError("an empty warning");
            }
        }
    }

    /**
     * Rewrites the seeds: Istio-shaped resources (virtual outbound and inbound listeners, an HTTP listener, routes,
     * passthrough / black hole / TLS / inbound clusters, endpoints) and the test kit's RPC and HTTP resources
     * ({@code -Dfuzz.seeds.write=true}, docs/fuzzing.md).
     */
    @Test
    @EnabledIfSystemProperty(named = "fuzz.seeds.write", matches = "true")
    void writeSeeds() {
        Path dir = Path.of("src/test/resources/io/remora/xds/XdsTranslatorFuzzTestInputs/translate");
        Map<String, Message> seeds = new java.util.LinkedHashMap<>();
        seeds.put("listener_virtual_outbound", IstioShapedPush.virtualOutbound(15001));
        seeds.put("listener_virtual_inbound", IstioShapedPush.virtualInbound(15006));
        seeds.put("listener_outbound_http", IstioShapedPush.outboundHttp("10.0.0.1", 9080));
        seeds.put("listener_rpc", EnvoyResources.rpcListener("egress", "127.0.0.1", 12200,
                "{\"protocol\":\"bolt\",\"routes\":[{\"match\":{\"service\":\"*\"},\"cluster\":\"c\"}]}"));
        seeds.put("listener_http_rds", EnvoyResources.httpListener("web", "127.0.0.1", 8080, "r"));
        seeds.put("route_9080", IstioShapedPush.routes9080());
        seeds.put("route_rpc", EnvoyResources.routeConfig("rpc",
                EnvoyResources.route("com.example.Hello:1.0", "sayHello", "hello", 3000)));
        seeds.put("cluster_passthrough", IstioShapedPush.passthrough());
        seeds.put("cluster_black_hole", IstioShapedPush.blackHole());
        seeds.put("cluster_outbound_tls", IstioShapedPush.outbound(IstioShapedPush.ECHO, "echo.prod"));
        seeds.put("cluster_inbound", IstioShapedPush.inbound(8080));
        seeds.put("cluster_eds_bolt", EnvoyResources.edsCluster("hello", "bolt"));
        seeds.put("endpoints_istio", IstioShapedPush.endpoints(IstioShapedPush.ECHO, 9080, true));
        seeds.put("endpoints_labels", EnvoyResources.endpoints("hello", List.of(
                EnvoyResources.endpoint("10.0.0.2", 12200, 3, Map.of("version", "v1"), HealthStatus.HEALTHY),
                EnvoyResources.endpoint("10.0.0.3", 12200, 1, Map.of(), HealthStatus.UNHEALTHY))));
        seeds.forEach((name, m) -> {
            int kind = m instanceof Listener ? 0 : m instanceof RouteConfiguration ? 1 : m instanceof Cluster ? 2 : 3;
            new FdpSeed().intInRange(kind, 0, 3).bytes(m.toByteArray()).write(dir, name);
        });
    }
}
