package io.remora.bench;

import io.remora.core.cluster.HostRegistry;
import io.remora.core.config.ConfigCompiler;
import io.remora.core.config.ConfigSnapshot;
import io.remora.core.config.SidecarConfig;
import io.remora.core.protocol.ProtocolRegistry;
import io.remora.core.protocol.RequestHeaders;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

/** Generated configs of a given size, and a request view, shared by the benchmarks. */
final class Fixtures {

    private Fixtures() {
    }

    /** A request as a codec exposes it: strings that already exist, no parsing on access. */
    record Request(String service, String method) implements RequestHeaders {
        @Override public String protocol() { return "bench"; }
        @Override public String header(String name) { return "zone".equals(name) ? "z1" : null; }
        @Override public void forEachHeader(BiConsumer<String, String> visitor) { visitor.accept("zone", "z1"); }
    }

    static String service(int i) {
        return "com.example.Service" + i + ":1.0";
    }

    /** {@code services} routes (one per service, every 10th with a header condition) over {@code hosts} hosts. */
    static SidecarConfig config(int services, int hosts) {
        List<SidecarConfig.Route> routes = new ArrayList<>(services + 1);
        for (int i = 0; i < services; i++) {
            List<SidecarConfig.HeaderMatch> headers = i % 10 == 0
                    ? List.of(new SidecarConfig.HeaderMatch("zone", "z1", null, null)) : null;
            routes.add(new SidecarConfig.Route("r" + i, new SidecarConfig.RouteMatch(service(i), null, headers),
                    "c" + (i % 10), null, 3000L));
        }
        routes.add(new SidecarConfig.Route("default", new SidecarConfig.RouteMatch("*", null, null), "c0", null,
                null));
        List<SidecarConfig.Cluster> clusters = new ArrayList<>();
        int perCluster = Math.max(1, hosts / 10);
        int n = 0;
        for (int c = 0; c < 10; c++) {
            List<SidecarConfig.Host> hs = new ArrayList<>(perCluster);
            for (int h = 0; h < perCluster; h++, n++) {
                hs.add(new SidecarConfig.Host("10." + ((n >> 16) & 255) + "." + ((n >> 8) & 255) + "." + (n & 255)
                        + ":12200", 1 + (h % 5), Map.of("zone", "z" + (h % 3))));
            }
            clusters.add(new SidecarConfig.Cluster("c" + c, null, c % 2 == 0 ? "round_robin" : "weighted", null,
                    null, null, null, hs));
        }
        return new SidecarConfig(null, null, null, null, List.of(),
                List.of(new SidecarConfig.RouteConfig("routes", routes)), clusters,
                Map.of("label_routing", labelRules(services)));
    }

    /** One label-routing rule per service: 90% to zone z0, 10% to zone z1 of the service's cluster. */
    static com.fasterxml.jackson.databind.JsonNode labelRules(int services) {
        com.fasterxml.jackson.databind.node.ObjectNode root =
                com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
        com.fasterxml.jackson.databind.node.ArrayNode rules = root.putArray("rules");
        for (int i = 0; i < services; i++) {
            com.fasterxml.jackson.databind.node.ObjectNode r = rules.addObject();
            r.put("name", "lr" + i).put("app", "c" + (i % 10)).put("service", service(i)).put("priority", 1);
            com.fasterxml.jackson.databind.node.ArrayNode g = r.putArray("groups");
            g.addObject().put("name", "main").put("weight", 90).putObject("labels").put("zone", "z0");
            g.addObject().put("name", "gray").put("weight", 10).putObject("labels").put("zone", "z1");
            r.put("fallback_other_groups", true);
        }
        return root;
    }

    static ConfigSnapshot compile(SidecarConfig cfg) throws Exception {
        return new ConfigCompiler(new ProtocolRegistry(List.of()), Map.of(), new HostRegistry(), null)
                .compile(cfg, 1, "bench");
    }
}
