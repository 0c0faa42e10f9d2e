package io.remora.core.config;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBuf;
import io.remora.core.cluster.HostRegistry;
import io.remora.core.protocol.Detection;
import io.remora.core.protocol.Protocol;
import io.remora.core.protocol.ProtocolOptions;
import io.remora.core.protocol.ProtocolRegistry;
import io.remora.core.protocol.RpcCodec;
import io.remora.core.testproto.TestProtocol;
import io.remora.testing.fuzz.FdpSeed;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Fuzz targets of the config loader and compiler (docs/fuzzing.md): a config either compiles or is rejected with a
 * {@link ConfigException} whose message says what is wrong — never an unchecked exception (a bad config pushed over
 * the admin API or a file reload must be refused with a reason, not crash the reload). Corpus:
 * {@code src/test/resources/io/remora/core/config/ConfigCompilerFuzzTestInputs/<method>/}.
 */
class ConfigCompilerFuzzTest {

    /** The sidecar's bundled default config (dist), the base of {@link #mutatedDefault}. */
    static final Path DEFAULT_CONFIG = Path.of("../dist/src/main/layout/conf/remora.json");

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonNode BASE = readDefault();

    /**
     * Protocols by the names the default config and the docs use, all speaking the test protocol: the compiler's job
     * (listeners, routes, clusters, limits) does not depend on the plugin, and proxy-core's tests see no real one.
     */
    private static final ProtocolRegistry PROTOCOLS = new ProtocolRegistry(List.of(new TestProtocol(),
            alias("bolt"), alias("dubbo"), alias("http"), alias("tcp")));

    /** Any text, as a config file or an admin API body would bring it. */
    @FuzzTest(maxDuration = "5m")
    @DictionaryEntries({"\"listeners\"", "\"clusters\"", "\"route_configs\"", "\"routes\"", "\"match\"",
        "\"service\"", "\"cluster\"", "\"hosts\"", "\"address\"", "\"protocol\"", "\"name\"", "\"weight\"",
        "\"timeout_ms\"", "\"headers\"", "\"filter_chains\"", "\"filters\"", "\"options\"", "\"limits\"",
        "\"overload\"", "\"admin\"", "\"port\"", "\"lb_policy\"", "\"max_frame_bytes\"", "\"idle_timeout_ms\"",
        "\"127.0.0.1:0\"", "\"testrpc\"", "\"*\"", ":-1", ":1e309", ":null", ":[]", ":{}"})
    void jsonText(FuzzedDataProvider data) {
        compile(data.consumeRemainingAsString());
    }

    /**
     * The bundled default config with up to eight fuzzer-chosen edits (a value replaced by another of any JSON type,
     * a field or element removed or duplicated, a known field added, an object turned into an array), compiled.
     */
    @FuzzTest(maxDuration = "5m")
    void mutatedDefault(FuzzedDataProvider data) {
        JsonNode root = BASE.deepCopy();
        int edits = data.consumeInt(0, 8);
        for (int i = 0; i < edits; i++) {
            root = edit(root, data);
        }
        compile(root.toString());
    }

    @Test
    @EnabledIfSystemProperty(named = "fuzz.seeds.write", matches = "true")
    void writeSeeds() throws IOException {
        Path base = Path.of("src/test/resources/io/remora/core/config/ConfigCompilerFuzzTestInputs");
        Path text = base.resolve("jsonText");
        Files.createDirectories(text);
        Files.writeString(text.resolve("default_config"), Files.readString(DEFAULT_CONFIG));
        Files.writeString(text.resolve("minimal_testrpc"), """
                {"listeners":[{"name":"out","address":"127.0.0.1:0","protocol":"testrpc",
                   "routes":[{"match":{"service":"a"},"cluster":"c"}]}],
                 "clusters":[{"name":"c","hosts":[{"address":"127.0.0.1:9"}]}]}""");
        Files.writeString(text.resolve("empty_object"), "{}");
        new FdpSeed().intInRange(0, 0, 8).write(base.resolve("mutatedDefault"), "unchanged");
    }

    // ---- the oracle

    private static void compile(String json) {
        try {
            SidecarConfig c = ConfigLoader.parse(json);
            new ConfigCompiler(PROTOCOLS, Map.of(), new HostRegistry(), null).compile(c, 1, "fuzz");
        } catch (ConfigException e) {
            if (e.problem() == null || e.problem().isBlank()) {
                throw new AssertionError("a rejection without a reason (path " + e.path() + ")", e);
            }
        }
    }

    // ---- mutations

    private static final String[] KEYS = {"name", "address", "protocol", "direction", "routes", "route_config",
        "match", "service", "method", "headers", "exact", "regex", "prefix", "cluster", "clusters", "weight",
        "hosts", "timeout_ms", "retry", "filters", "type", "config", "options", "max_frame_bytes", "idle_timeout_ms",
        "lb_policy", "connect_timeout_ms", "health_check", "outlier_detection", "filter_chains", "default_filter_chain",
        "filter_chain_match", "bind_to_port", "use_original_dst", "transparent", "tls", "limits", "overload",
        "metrics", "admin", "port", "node", "app", "log", "level", "worker_threads", "route_configs",
        "max_pending_requests", "max_queued_bytes", "heartbeat_interval_ms", "weighted_clusters", "labels"};

    private static JsonNode edit(JsonNode root, FuzzedDataProvider data) {
        List<JsonNode> containers = new ArrayList<>();
        collect(root, containers);
        JsonNode target = containers.get(data.consumeInt(0, containers.size() - 1));
        int op = data.consumeInt(0, 4);
        if (target instanceof ObjectNode o) {
            List<String> names = new ArrayList<>();
            o.fieldNames().forEachRemaining(names::add);
            String key = names.isEmpty() || op == 2 ? data.pickValue(KEYS)
                    : names.get(data.consumeInt(0, names.size() - 1));
            switch (op) {
                case 0, 2 -> o.set(key, value(data));
                case 1 -> o.remove(key);
                case 3 -> o.set(key, o.has(key) ? o.get(key).deepCopy() : value(data));
                default -> {
                    JsonNode v = o.get(key);
                    if (v != null) {
                        ArrayNode a = JsonNodeFactory.instance.arrayNode();
                        a.add(v);
                        o.set(key, a); // an object or scalar where a list is expected, or the reverse
                    }
                }
            }
        } else if (target instanceof ArrayNode a) {
            int i = a.isEmpty() ? 0 : data.consumeInt(0, a.size() - 1);
            switch (op) {
                case 0 -> {
                    if (a.isEmpty()) {
                        a.add(value(data));
                    } else {
                        a.set(i, value(data));
                    }
                }
                case 1 -> {
                    if (!a.isEmpty()) {
                        a.remove(i);
                    }
                }
                case 2, 3 -> {
                    if (!a.isEmpty()) {
                        a.add(a.get(i).deepCopy()); // duplicates: names, addresses
                    }
                }
                default -> a.add(value(data));
            }
        }
        return root;
    }

    private static void collect(JsonNode n, List<JsonNode> into) {
        if (n.isContainerNode()) {
            into.add(n);
            for (Iterator<JsonNode> it = n.elements(); it.hasNext();) {
                collect(it.next(), into);
            }
        }
    }

    private static JsonNode value(FuzzedDataProvider data) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        return switch (data.consumeInt(0, 9)) {
            case 0 -> f.nullNode();
            case 1 -> f.booleanNode(data.consumeBoolean());
            case 2 -> f.numberNode(data.pickValue(new long[] {0, -1, 1, 65535, 65536, Integer.MAX_VALUE,
                (long) Integer.MAX_VALUE + 1, Long.MAX_VALUE, Long.MIN_VALUE}));
            case 3 -> f.numberNode(data.consumeLong());
            case 4 -> f.numberNode(data.consumeDouble());
            case 5 -> f.textNode(data.pickValue(new String[] {"", "*", "127.0.0.1:0", "0.0.0.0:80", "[::1]:8080",
                "localhost", ":", "a:b:c", "bolt", "http", "testrpc", "round_robin", "inbound", "hello_provider",
                "1e3", "-5", "([", ".*"}));
            case 6 -> f.textNode(data.consumeString(40));
            case 7 -> f.objectNode();
            case 8 -> f.arrayNode();
            default -> {
                ObjectNode o = f.objectNode();
                o.set(data.pickValue(KEYS), f.textNode(data.consumeString(16)));
                yield o;
            }
        };
    }

    private static JsonNode readDefault() {
        try {
            return JSON.readTree(Files.readString(DEFAULT_CONFIG, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("the default config " + DEFAULT_CONFIG.toAbsolutePath()
                    + " (the base of mutatedDefault) cannot be read", e);
        }
    }

    private static Protocol alias(String name) {
        TestProtocol p = new TestProtocol();
        return new Protocol() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public Detection detect(ByteBuf firstBytes) {
                return p.detect(firstBytes);
            }

            @Override
            public RpcCodec codec(ProtocolOptions options) {
                return p.codec(options);
            }
        };
    }
}
