package io.remora.injector.template;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A structural template: a YAML/JSON tree whose string scalars may hold {@code {{ path }}} placeholders, rendered
 * against a context tree. Values are inserted into the parsed tree, never into YAML text, so a value (a pod
 * annotation, say) can never add fields or change the document's structure; there is no code execution, only
 * path lookups, a few filters and a condition per map. Compiled once; {@link #render} is thread-safe.
 *
 * <p>Every path must name a key of the context: a typo is an error, not an empty field. A key whose value is
 * null means "unset".
 *
 * <ul>
 *   <li>{@code "{{ a.b }}"} — the whole string is the placeholder: the value keeps its type (map, list, number,
 *       boolean); a null value removes the field (or list element).</li>
 *   <li>{@code "x-{{ a.b }}"} — inside text: the value's text; a null value, a map or a list is an error.</li>
 *   <li>filters: {@code {{ a | string }}} (scalar as text), {@code | json} (compact JSON text),
 *       {@code | lower}, {@code | upper}.</li>
 *   <li>{@code $if: a.b} (or {@code "!a.b"}) in a map: the map is kept only when the value is set — not null,
 *       false, "", "false", 0 or empty; {@code $value: X} in that map replaces the map by {@code X}.</li>
 * </ul>
 */
public final class Template {

    /** Keys starting with this are directives, never output. */
    static final String DIRECTIVE = "$";
    static final String IF = "$if";
    static final String VALUE = "$value";

    private final Node root;

    private Template(Node root) {
        this.root = root;
    }

    /** Compiles a parsed template tree; syntax errors (placeholders, directives) are reported here, with their path. */
    public static Template compile(JsonNode tree) {
        requireNonNull(tree, "tree");
        return new Template(compileNode(tree, ""));
    }

    /** Renders against {@code context}; the result is a fresh tree (null only if the root itself is removed). */
    public JsonNode render(JsonNode context) {
        requireNonNull(context, "context");
        return root.render(context);
    }

    // ---- compilation ----

    private static Node compileNode(JsonNode n, String where) {
        if (n.isObject()) return compileMap((ObjectNode) n, where);
        if (n.isArray()) {
            List<Node> items = new ArrayList<>();
            for (int i = 0; i < n.size(); i++) items.add(compileNode(n.get(i), where + "[" + i + "]"));
            return new ListNode(items);
        }
        if (n.isTextual()) return compileText(n.textValue(), where);
        return new Literal(n);
    }

    private static Node compileMap(ObjectNode map, String where) {
        Condition cond = null;
        Node value = null;
        Map<String, Node> entries = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = map.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String key = e.getKey();
            String at = where.isEmpty() ? key : where + "." + key;
            if (key.startsWith(DIRECTIVE)) {
                switch (key) {
                    case IF -> {
                        if (!e.getValue().isTextual()) {
                            throw new TemplateException(at + ": $if takes a path, e.g. $if: interception.enabled");
                        }
                        cond = Condition.parse(e.getValue().textValue(), at);
                    }
                    case VALUE -> value = compileNode(e.getValue(), at);
                    default -> throw new TemplateException(
                            at + ": unknown directive " + key + " (directives: $if, $value)");
                }
            } else {
                entries.put(key, compileNode(e.getValue(), at));
            }
        }
        if (value != null) {
            if (cond == null) throw new TemplateException(where + ": $value needs a $if");
            if (!entries.isEmpty()) {
                throw new TemplateException(where + ": a map with $value has no other keys, found " + entries.keySet());
            }
        }
        return new MapNode(cond, value, entries, where);
    }

    private static Node compileText(String s, String where) {
        int open = s.indexOf("{{");
        if (open < 0) {
            if (s.contains("}}")) throw new TemplateException(where + ": unbalanced }} in \"" + s + "\"");
            return new Literal(JsonNodeFactory.instance.textNode(s));
        }
        List<Object> parts = new ArrayList<>(); // String literal or Expr
        int pos = 0;
        while (open >= 0) {
            int close = s.indexOf("}}", open + 2);
            if (close < 0) throw new TemplateException(where + ": unclosed {{ in \"" + s + "\"");
            String literal = s.substring(pos, open);
            if (literal.contains("}}")) throw new TemplateException(where + ": unbalanced }} in \"" + s + "\"");
            if (!literal.isEmpty()) parts.add(literal);
            parts.add(Expr.parse(s.substring(open + 2, close), where));
            pos = close + 2;
            open = s.indexOf("{{", pos);
        }
        String tail = s.substring(pos);
        if (tail.contains("}}")) throw new TemplateException(where + ": unbalanced }} in \"" + s + "\"");
        if (!tail.isEmpty()) parts.add(tail);
        if (parts.size() == 1 && parts.get(0) instanceof Expr e) return new Whole(e);
        return new Interpolated(parts, where);
    }

    // ---- the compiled tree ----

    private interface Node {
        /** The rendered value, or null when the node is removed (missing value, false condition). */
        JsonNode render(JsonNode ctx);
    }

    private record Literal(JsonNode value) implements Node {
        @Override
        public JsonNode render(JsonNode ctx) {
            return value.deepCopy();
        }
    }

    private record Whole(Expr expr) implements Node {
        @Override
        public JsonNode render(JsonNode ctx) {
            return expr.evaluate(ctx);
        }
    }

    private record Interpolated(List<Object> parts, String where) implements Node {
        @Override
        public JsonNode render(JsonNode ctx) {
            StringBuilder sb = new StringBuilder();
            for (Object p : parts) {
                if (p instanceof String lit) {
                    sb.append(lit);
                    continue;
                }
                Expr e = (Expr) p;
                JsonNode v = e.evaluate(ctx);
                if (v == null) throw new TemplateException(where + ": no value for {{ " + e.source() + " }}");
                if (v.isContainerNode()) {
                    throw new TemplateException(where + ": {{ " + e.source() + " }} is a "
                            + (v.isArray() ? "list" : "map") + " inside text; use | json");
                }
                sb.append(v.asText());
            }
            return JsonNodeFactory.instance.textNode(sb.toString());
        }
    }

    private record ListNode(List<Node> items) implements Node {
        @Override
        public JsonNode render(JsonNode ctx) {
            ArrayNode out = JsonNodeFactory.instance.arrayNode(items.size());
            for (Node item : items) {
                JsonNode v = item.render(ctx);
                if (v != null) out.add(v);
            }
            return out;
        }
    }

    private record MapNode(Condition cond, Node value, Map<String, Node> entries, String where) implements Node {
        @Override
        public JsonNode render(JsonNode ctx) {
            if (cond != null && !cond.test(ctx, where)) return null;
            if (value != null) return value.render(ctx);
            ObjectNode out = JsonNodeFactory.instance.objectNode();
            for (Map.Entry<String, Node> e : entries.entrySet()) {
                JsonNode v = e.getValue().render(ctx);
                if (v != null) out.set(e.getKey(), v);
            }
            return out;
        }
    }

    /** {@code path}, optionally negated: true when the value is set. */
    private record Condition(Path path, boolean negated) {
        static Condition parse(String s, String where) {
            String t = s.strip();
            boolean neg = t.startsWith("!");
            if (neg) t = t.substring(1).strip();
            return new Condition(Path.parse(t, where), neg);
        }

        boolean test(JsonNode ctx, String where) {
            return truthy(path.lookup(ctx, where)) != negated;
        }
    }

    static boolean truthy(JsonNode v) {
        if (v == null || v.isNull() || v.isMissingNode()) return false;
        if (v.isBoolean()) return v.booleanValue();
        if (v.isTextual()) return !v.textValue().isEmpty() && !v.textValue().equalsIgnoreCase("false");
        if (v.isNumber()) return v.doubleValue() != 0;
        if (v.isContainerNode()) return v.size() > 0;
        return true;
    }

    private enum Filter {
        STRING, JSON, LOWER, UPPER;

        static Filter parse(String name, String where) {
            return switch (name) {
                case "string" -> STRING;
                case "json" -> JSON;
                case "lower" -> LOWER;
                case "upper" -> UPPER;
                default -> throw new TemplateException(
                        where + ": unknown filter \"" + name + "\" (string, json, lower, upper)");
            };
        }

        JsonNode apply(JsonNode v, String where, String source) {
            JsonNodeFactory f = JsonNodeFactory.instance;
            if (this == JSON) return f.textNode(v.toString());
            if (v.isContainerNode()) {
                throw new TemplateException(where + ": {{ " + source + " }} is not a scalar; use | json");
            }
            String text = v.asText();
            return switch (this) {
                case STRING -> f.textNode(text);
                case LOWER -> f.textNode(text.toLowerCase(java.util.Locale.ROOT));
                case UPPER -> f.textNode(text.toUpperCase(java.util.Locale.ROOT));
                default -> throw new AssertionError(this);
            };
        }
    }

    private record Expr(Path path, List<Filter> filters, String source, String where) {
        static Expr parse(String s, String where) {
            String[] pieces = s.split("\\|", -1);
            Path p = Path.parse(pieces[0].strip(), where);
            List<Filter> fs = new ArrayList<>();
            for (int i = 1; i < pieces.length; i++) fs.add(Filter.parse(pieces[i].strip(), where));
            return new Expr(p, List.copyOf(fs), s.strip(), where);
        }

        JsonNode evaluate(JsonNode ctx) {
            JsonNode v = path.lookup(ctx, where);
            if (v == null) return null;
            v = v.deepCopy();
            for (Filter f : filters) v = f.apply(v, where, source);
            return v;
        }
    }

    /** A dotted path of map keys: {@code interception.enabled}. */
    private record Path(List<String> segments) {
        static Path parse(String s, String where) {
            if (s.isEmpty()) throw new TemplateException(where + ": empty placeholder");
            String[] segs = s.split("\\.", -1);
            for (String seg : segs) {
                if (!seg.matches("[A-Za-z_][A-Za-z0-9_-]*")) {
                    throw new TemplateException(where + ": bad path \"" + s + "\" (dotted names: a.b.c; no code)");
                }
            }
            return new Path(List.of(segs));
        }

        /** The value, or null when it (or a map on the way) is null; a key that does not exist is an error. */
        JsonNode lookup(JsonNode ctx, String where) {
            JsonNode cur = ctx;
            for (int i = 0; i < segments.size(); i++) {
                if (cur.isNull()) return null;
                JsonNode next = cur.isObject() ? cur.get(segments.get(i)) : null;
                if (next == null) {
                    throw new TemplateException(where + ": unknown value " + String.join(".", segments)
                            + (cur.isObject() ? "" : " (" + String.join(".", segments.subList(0, i)) + " is not a map)")
                            + "; declare it in the values (null when unset)");
                }
                cur = next;
            }
            return cur.isNull() ? null : cur;
        }
    }
}
