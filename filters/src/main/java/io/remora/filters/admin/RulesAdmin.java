package io.remora.filters.admin;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.remora.core.SidecarContext;
import io.remora.core.admin.AdminRequest;
import io.remora.core.admin.AdminResponse;
import io.remora.core.admin.AdminRoutes;
import io.remora.core.config.ConfigException;
import io.remora.core.config.ConfigLoader;
import io.remora.core.config.ConfigSnapshot;
import io.remora.core.config.SidecarConfig;
import io.remora.filters.rules.ActiveRule;
import io.remora.filters.rules.Governance;
import io.remora.filters.rules.GovernanceRules;
import io.remora.filters.rules.RuleCounters;
import io.remora.filters.rules.RuleParser;
import io.remora.filters.rules.RuleScope;
import java.util.HashMap;
import java.util.Map;

/**
 * The rule admin API. Every change goes through the one config model: a new {@link SidecarConfig} with
 * {@code extensions.governance} replaced, applied with {@code config().apply(cfg, "admin")}; invalid rules answer 400
 * naming the rule and field and change nothing.
 *
 * <pre>
 * GET  /api/v1/rules               all rules, every kind
 * PUT  /api/v1/rules/{kind}        replace one kind's rules (body: JSON list); kind = each registered rule kind
 *                                  (rate_limit, circuit_breaker, fault_inject, access_control)
 * GET  /api/v1/rules/export        the whole rule set, as import takes it
 * POST /api/v1/rules/import        replace the whole rule set
 * GET  /api/v1/rules/stats         per-rule counters and state
 * </pre>
 */
final class RulesAdmin {

    static final String BASE = "/api/v1/rules";

    private final SidecarContext context;
    private final Governance governance;
    private final ObjectMapper mapper = ConfigLoader.mapper();

    RulesAdmin(SidecarContext context, Governance governance) {
        this.context = context;
        this.governance = governance;
    }

    void registerOn(AdminRoutes routes) {
        routes.register("GET", BASE, r -> json(governance.rules().document()));
        routes.register("GET", BASE + "/export", r -> json(governance.rules().document()));
        routes.register("POST", BASE + "/import", this::importRules);
        routes.register("GET", BASE + "/stats", r -> json(stats()));
        for (String kind : governance.kinds().names()) {
            routes.register("PUT", BASE + "/" + kind, r -> replaceKind(kind, r));
        }
    }

    private AdminResponse replaceKind(String kind, AdminRequest req) throws JsonProcessingException {
        JsonNode body = parseBody(req);
        if (body == null) {
            return AdminResponse.error(400, "body must be a JSON list of " + kind + " rules");
        }
        synchronized (this) {
            GovernanceRules next;
            try {
                next = RuleParser.replaceKind(governance.kinds(), current(), kind, body);
            } catch (ConfigException e) {
                return AdminResponse.error(400, e.getMessage());
            }
            return apply(next, kind + " rules replaced: " + next.document().get(kind).size() + " rule(s)");
        }
    }

    private AdminResponse importRules(AdminRequest req) throws JsonProcessingException {
        JsonNode body = parseBody(req);
        if (body == null) {
            return AdminResponse.error(400, "body must be a JSON object with " + governance.kinds().names());
        }
        synchronized (this) {
            GovernanceRules next;
            try {
                next = RuleParser.parse(governance.kinds(), body, RuleParser.BASE_PATH);
            } catch (ConfigException e) {
                return AdminResponse.error(400, e.getMessage());
            }
            return apply(next, "rules imported");
        }
    }

    private JsonNode parseBody(AdminRequest req) {
        if (req.body() == null || req.body().isBlank()) {
            return null;
        }
        try {
            return mapper.readTree(req.body());
        } catch (JsonProcessingException e) {
            return null;
        }
    }

    /** The rules of the running config (not just the published ones: the config is the one source of truth). */
    private GovernanceRules current() throws ConfigException {
        ConfigSnapshot s = context.config().current();
        return s == null ? governance.rules() : RuleParser.parse(governance.kinds(), s.source());
    }

    private AdminResponse apply(GovernanceRules next, String what) throws JsonProcessingException {
        ConfigSnapshot s = context.config().current();
        if (s == null) {
            return AdminResponse.error(503, "no config applied yet");
        }
        SidecarConfig c = s.source();
        Map<String, JsonNode> ext = c.extensions() == null ? new HashMap<>() : new HashMap<>(c.extensions());
        ext.put(RuleParser.EXTENSION_KEY, next.document());
        SidecarConfig cfg = c.withExtensions(Map.copyOf(ext));
        ConfigSnapshot applied;
        try {
            applied = context.config().apply(cfg, "admin");
        } catch (ConfigException e) {
            return AdminResponse.error(400, e.getMessage());
        }
        ObjectNode out = mapper.createObjectNode();
        out.put("result", what);
        out.put("config_version", applied.version());
        return json(out);
    }

    private ObjectNode stats() {
        ObjectNode out = mapper.createObjectNode();
        for (String k : governance.kinds().names()) {
            out.putArray(k);
        }
        for (ActiveRule<?> s : governance.states()) {
            RuleScope sc = s.scope();
            RuleCounters c = s.counters();
            ObjectNode o = ((ArrayNode) out.get(sc.kind())).addObject();
            o.put("name", sc.name());
            o.put("direction", sc.direction() == io.remora.core.filter.Direction.OUTBOUND ? "client" : "server");
            o.put("service", sc.service());
            o.put("method", sc.method());
            o.put("mode", sc.mode());
            o.put("enabled", sc.enabled());
            o.put("passed", c.passed.sum());
            o.put("rejected", c.rejected.sum());
            o.put("observed_rejected", c.observed.sum());
            o.put("injected", c.injected.sum());
            o.put("completed", c.completed.sum());
            o.put("exceptions", c.exceptions.sum());
            s.describeState(o);
            if (s.shadowedBy() != null) {
                o.put("shadowed_by", s.shadowedBy());
            }
        }
        return out;
    }

    private AdminResponse json(JsonNode node) throws JsonProcessingException {
        return AdminResponse.json(mapper.writeValueAsString(node));
    }
}
