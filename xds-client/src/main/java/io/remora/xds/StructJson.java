package io.remora.xds;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import java.util.Map;

/** protobuf {@link Struct} to Jackson, turning whole numbers back into integers (Struct only has doubles). */
final class StructJson {

    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    private StructJson() {
    }

    static ObjectNode toJson(Struct s) {
        ObjectNode o = F.objectNode();
        for (Map.Entry<String, Value> e : s.getFieldsMap().entrySet()) {
            o.set(e.getKey(), toJson(e.getValue()));
        }
        return o;
    }

    static JsonNode toJson(Value v) {
        return switch (v.getKindCase()) {
            case NULL_VALUE, KIND_NOT_SET -> F.nullNode();
            case BOOL_VALUE -> F.booleanNode(v.getBoolValue());
            case STRING_VALUE -> F.textNode(v.getStringValue());
            case NUMBER_VALUE -> {
                double d = v.getNumberValue();
                if (d == Math.rint(d) && Math.abs(d) < 9.007199254740992E15) {
                    long l = (long) d;
                    yield l == (int) l ? F.numberNode((int) l) : F.numberNode(l);
                }
                yield F.numberNode(d);
            }
            case STRUCT_VALUE -> toJson(v.getStructValue());
            case LIST_VALUE -> {
                ArrayNode a = F.arrayNode();
                v.getListValue().getValuesList().forEach(x -> a.add(toJson(x)));
                yield a;
            }
        };
    }
}
