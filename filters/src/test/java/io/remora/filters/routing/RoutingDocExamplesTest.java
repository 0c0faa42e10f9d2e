package io.remora.filters.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.remora.core.config.ConfigException;
import io.remora.core.config.ConfigLoader;
import io.remora.core.config.SidecarConfig;
import io.remora.testing.TestSidecar;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The JSON examples of docs/routing.md are files under docs/examples/routing/, the guide shows exactly those files,
 * and together they compile as one sidecar config (cluster, route, label routing and app heartbeat).
 */
class RoutingDocExamplesTest {

    private static final Path DOCS = Path.of("../docs");
    private static final List<String> EXAMPLES = List.of("cluster", "route_retry", "label_routing", "app_heartbeat");
    private static TestSidecar sidecar;

    @BeforeAll
    static void start() throws Exception {
        sidecar = TestSidecar.start("{\"admin\":{\"port\":0},\"listeners\":[],\"clusters\":[]}");
    }

    @AfterAll
    static void stop() {
        sidecar.close();
    }

    private static JsonNode example(String name) throws Exception {
        return ConfigLoader.mapper().readTree(Files.readString(DOCS.resolve("examples/routing/" + name + ".json")));
    }

    /** The examples assembled into one config: an inbound Bolt listener with the route, the cluster, extensions. */
    private static String assembled(JsonNode labelRouting) throws Exception {
        ObjectNode extensions = ConfigLoader.mapper().createObjectNode();
        extensions.setAll((ObjectNode) labelRouting);
        extensions.setAll((ObjectNode) example("app_heartbeat"));
        return """
                {"admin":{"port":0},
                 "listeners":[{"name":"ingress_bolt","address":"127.0.0.1:0","protocol":"bolt","direction":"inbound",
                   "routes":[%s]}],
                 "clusters":[%s],
                 "extensions":%s}""".formatted(example("route_retry"), example("cluster"), extensions);
    }

    private static void validate(String json) throws ConfigException {
        SidecarConfig c = ConfigLoader.parse(json);
        sidecar.sidecar().config().validate(c);
    }

    @Test
    void theGuideShowsEveryExampleFileVerbatim() throws Exception {
        String guide = Files.readString(DOCS.resolve("routing.md"));
        Matcher m = Pattern.compile("Example \\(\\[examples/routing/(\\w+)\\.json\\]\\(examples/routing/\\1\\.json\\)\\):"
                + "\\n```json\\n(.*?)```", Pattern.DOTALL).matcher(guide);
        List<String> shown = new ArrayList<>();
        while (m.find()) {
            shown.add(m.group(1));
            assertEquals(example(m.group(1)), ConfigLoader.mapper().readTree(m.group(2)),
                    "docs/routing.md block differs from docs/examples/routing/" + m.group(1) + ".json");
        }
        assertEquals(EXAMPLES, shown);
    }

    @Test
    void theExamplesCompileTogetherAsOneSidecarConfig() throws Exception {
        validate(assembled(example("label_routing")));
        List<LabelRule> rules = LabelRoutingFactory.parse(example("label_routing").get("label_routing"));
        assertEquals(List.of("gray-callers", "gray-10"), rules.stream().map(r -> r.name).toList());
        assertEquals(10, rules.get(0).priority);
        assertEquals(1, rules.get(0).groups.length);
        assertEquals(2, rules.get(1).groups.length);
    }

    @Test
    void aBrokenCopyOfTheLabelRoutingExampleIsRefusedNamingTheRule() throws Exception {
        JsonNode broken = ConfigLoader.mapper().readTree(example("label_routing").toString()
                .replace("\"weight\":90", "\"weight\":80"));
        ConfigException e = assertThrows(ConfigException.class, () -> validate(assembled(broken)));
        assertTrue(e.getMessage().contains("100") && e.getMessage().contains("gray-10"), e.getMessage());
    }
}
