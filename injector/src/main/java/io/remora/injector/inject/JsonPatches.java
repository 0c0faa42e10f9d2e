package io.remora.injector.inject;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.remora.injector.Json;

/**
 * RFC 6902 "add" operations: what the injector emits, and applies itself for offline injection (so the webhook's
 * patch and {@code remora inject} produce the same pod). Paths are RFC 6901 pointers.
 */
public final class JsonPatches {

    private JsonPatches() {}

    static ObjectNode add(String path, JsonNode value) {
        ObjectNode op = Json.JSON.createObjectNode();
        op.put("op", "add");
        op.put("path", path);
        op.set("value", value);
        return op;
    }

    /** One pointer segment: "~" is "~0", "/" is "~1" ({@code remora.io/status} is {@code remora.io~1status}). */
    public static String escape(String segment) {
        return segment.replace("~", "~0").replace("/", "~1");
    }

    static String unescape(String segment) {
        return segment.replace("~1", "/").replace("~0", "~");
    }

    /** Applies "add" operations to {@code root} in place, in order; anything else is an error. */
    public static void apply(ObjectNode root, ArrayNode ops) {
        for (JsonNode op : ops) {
            if (!"add".equals(op.path("op").asText())) {
                throw new IllegalArgumentException("only add is supported: " + op);
            }
            String path = op.path("path").asText();
            if (!path.startsWith("/")) throw new IllegalArgumentException("bad pointer " + path);
            String[] segs = path.substring(1).split("/", -1);
            JsonNode target = root;
            for (int i = 0; i < segs.length - 1; i++) {
                target = child(target, unescape(segs[i]), path);
            }
            String last = unescape(segs[segs.length - 1]);
            JsonNode value = op.get("value").deepCopy();
            if (target instanceof ObjectNode o) {
                o.set(last, value);
            } else if (target instanceof ArrayNode a) {
                if (last.equals("-")) {
                    a.add(value);
                } else {
                    int idx = index(last, path);
                    if (idx > a.size()) throw new IllegalArgumentException("index out of range in " + path);
                    a.insert(idx, value);
                }
            } else {
                throw new IllegalArgumentException("no container at " + path);
            }
        }
    }

    private static JsonNode child(JsonNode node, String seg, String path) {
        JsonNode c = node.isArray() ? node.get(index(seg, path)) : node.get(seg);
        if (c == null || !c.isContainerNode()) throw new IllegalArgumentException("missing parent in " + path);
        return c;
    }

    private static int index(String seg, String path) {
        if (!seg.matches("0|[1-9][0-9]{0,8}")) throw new IllegalArgumentException("bad array index in " + path);
        return Integer.parseInt(seg);
    }
}
