package io.remora.filters.routing;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.remora.core.SidecarContext;
import io.remora.core.SidecarExtension;
import io.remora.core.admin.AdminRequest;
import io.remora.core.admin.AdminResponse;
import io.remora.core.config.ConfigException;
import io.remora.core.config.ConfigLoader;
import io.remora.core.config.ConfigSnapshot;
import io.remora.core.config.SidecarConfig;
import java.util.HashMap;
import java.util.Map;

/**
 * Admin API of label routing. Changes go through the one config model: a new {@link SidecarConfig} with
 * {@code extensions.label_routing} replaced, applied with {@code config().apply(cfg, "admin")}; a bad rule answers
 * 400 naming the field and changes nothing.
 *
 * <pre>
 * GET /api/v1/label_routing   the running section ({"rules":[...]})
 * PUT /api/v1/label_routing   replace it (body: {"rules":[...]})
 * </pre>
 */
public final class LabelRoutingAdmin implements SidecarExtension {

    static final String PATH = "/api/v1/label_routing";

    private final ObjectMapper mapper = ConfigLoader.mapper();
    private SidecarContext context;

    @Override
    public String name() {
        return "label-routing";
    }

    @Override
    public void start(SidecarContext ctx) {
        this.context = ctx;
        ctx.admin().register("GET", PATH, r -> {
            ConfigSnapshot s = ctx.config().current();
            JsonNode n = s == null || s.source().extensions() == null ? null
                    : s.source().extensions().get(LabelRoutingFactory.KEY);
            return AdminResponse.json(n == null ? "{\"rules\":[]}" : mapper.writeValueAsString(n));
        });
        ctx.admin().register("PUT", PATH, this::replace);
    }

    private synchronized AdminResponse replace(AdminRequest req) throws JsonProcessingException {
        JsonNode body;
        try {
            body = req.body() == null || req.body().isBlank() ? null : mapper.readTree(req.body());
        } catch (JsonProcessingException e) {
            body = null;
        }
        if (body == null || !body.isObject()) {
            return AdminResponse.error(400, "body must be a JSON object {\"rules\":[...]}");
        }
        ConfigSnapshot s = context.config().current();
        if (s == null) {
            return AdminResponse.error(503, "no config applied yet");
        }
        SidecarConfig c = s.source();
        Map<String, JsonNode> ext = c.extensions() == null ? new HashMap<>() : new HashMap<>(c.extensions());
        ext.put(LabelRoutingFactory.KEY, body);
        try {
            ConfigSnapshot applied = context.config().apply(c.withExtensions(Map.copyOf(ext)), "admin");
            return AdminResponse.json("{\"result\":\"label routing rules replaced\",\"config_version\":"
                    + applied.version() + "}");
        } catch (ConfigException e) {
            return AdminResponse.error(400, e.getMessage());
        }
    }
}
