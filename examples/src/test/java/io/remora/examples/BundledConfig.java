package io.remora.examples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.remora.core.config.ConfigLoader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

/** The configs the dist ships (dist/src/main/layout/conf), and test copies of them on free ports. */
public final class BundledConfig {

    private BundledConfig() {
    }

    public static Path file(String name) {
        String dir = System.getProperty("remora.bundled.conf", "../dist/src/main/layout/conf");
        return Path.of(dir, name);
    }

    public static String text(String name) throws IOException {
        return Files.readString(file(name));
    }

    /**
     * The bundled config with the given listeners only, each on 127.0.0.1:0, the admin port 0, and each named cluster's
     * hosts replaced by one host on 127.0.0.1:{@code port}. Routes and everything else stay as shipped.
     */
    public static String forTest(String name, Set<String> listeners, Map<String, Integer> clusterPorts)
            throws IOException {
        ObjectNode root = (ObjectNode) ConfigLoader.mapper().readTree(text(name));
        ((ObjectNode) root.get("admin")).put("port", 0);
        root.remove("log");
        ArrayNode kept = root.putArray("listeners_kept");
        for (JsonNode l : root.get("listeners")) {
            if (listeners.contains(l.get("name").asText())) {
                ((ObjectNode) l).put("address", "127.0.0.1:0");
                kept.add(l);
            }
        }
        root.set("listeners", kept);
        root.remove("listeners_kept");
        for (JsonNode c : root.get("clusters")) {
            Integer port = clusterPorts.get(c.get("name").asText());
            if (port != null) {
                ArrayNode hosts = ((ObjectNode) c).putArray("hosts");
                hosts.addObject().put("address", "127.0.0.1:" + port);
            }
        }
        return ConfigLoader.mapper().writeValueAsString(root);
    }
}
