package io.remora.filters.routing;

import com.fasterxml.jackson.databind.JsonNode;
import io.remora.core.SidecarContext;
import io.remora.core.cluster.Cluster;
import io.remora.core.config.ConfigException;
import io.remora.core.router.HostSelector;
import io.remora.core.router.HostSelectorFactory;
import io.remora.filters.condition.ConditionSet;
import io.remora.filters.rules.RuleParser;
import io.remora.filters.rules.RuleReader;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Compiles {@code extensions.label_routing} into a {@link LabelRouter} with every config (the core calls it through the
 * {@link HostSelectorFactory} SPI, so the core never imports this module). Bad rules refuse the config with the path.
 */
public final class LabelRoutingFactory implements HostSelectorFactory {

    public static final String KEY = "label_routing";
    private static final Comparator<LabelRule> BY_PRIORITY =
            Comparator.comparingInt((LabelRule r) -> -r.priority).thenComparingInt(r -> r.order);

    @Override
    public String key() {
        return KEY;
    }

    @Override
    public HostSelector compile(JsonNode config, Map<String, Cluster> clusters, SidecarContext sidecar)
            throws ConfigException {
        List<LabelRule> rules = parse(config);
        if (rules.isEmpty()) {
            return null;
        }
        Map<String, List<LabelRule>> byService = new LinkedHashMap<>();
        List<LabelRule> any = new ArrayList<>();
        for (LabelRule r : rules) {
            if (r.service == null) {
                any.add(r);
            } else {
                byService.computeIfAbsent(r.service, k -> new ArrayList<>()).add(r);
            }
        }
        any.sort(BY_PRIORITY);
        // Rules for the same service merge, with the any-service rules, into one priority order.
        Map<String, LabelRule[]> table = new HashMap<>(Math.max(16, byService.size() * 2));
        byService.forEach((service, list) -> {
            List<LabelRule> merged = new ArrayList<>(list);
            merged.addAll(any);
            merged.sort(BY_PRIORITY);
            table.put(service, merged.toArray(LabelRouter.none()));
        });
        Logger log = sidecar == null ? LoggerFactory.getLogger("io.remora.routerule")
                : sidecar.logs().fileLogger("routerule.log", "INFO");
        LabelRouter router = new LabelRouter(table, any.toArray(LabelRouter.none()), new LabelRule.LabelIndex(), log);
        router.precompute(clusters);
        return router;
    }

    /** Parses and validates the section; disabled rules are dropped here. */
    static List<LabelRule> parse(JsonNode config) throws ConfigException {
        RuleReader root = new RuleReader(config, "");
        JsonNode list = root.raw("rules");
        root.finish();
        List<LabelRule> out = new ArrayList<>();
        if (list == null) {
            return out;
        }
        if (!list.isArray()) {
            throw new ConfigException("rules", "must be a list, was " + list.getNodeType());
        }
        for (int i = 0; i < list.size(); i++) {
            RuleReader r = new RuleReader(list.get(i), "rules[" + i + "]");
            String name = r.text("name", "rule-" + i);
            r.ruleName(name);
            String app = r.text("app", "*");
            String service = r.text("service", "*");
            int priority = (int) r.integer("priority", 0L, Integer.MIN_VALUE, Integer.MAX_VALUE);
            boolean enabled = r.bool("enabled", true);
            ConditionSet conditions = RuleParser.conditions(r.raw("conditions"), r, true);
            boolean otherGroups = r.bool("fallback_other_groups", false);
            boolean lower = r.bool("fallback_lower_priority", false);
            JsonNode gs = r.raw("groups");
            if (gs == null || !gs.isArray() || gs.isEmpty()) {
                throw r.error("groups", "is required (a non-empty list of {name, weight, labels})");
            }
            LabelRule.Group[] groups = new LabelRule.Group[gs.size()];
            int total = 0;
            for (int g = 0; g < gs.size(); g++) {
                RuleReader gr = new RuleReader(gs.get(g), r.path() + ".groups[" + g + "]");
                gr.ruleName(name);
                String gname = gr.text("name", "group-" + g);
                int weight = (int) gr.integer("weight", gs.size() == 1 ? 100L : null, 0, 100);
                JsonNode labels = gr.raw("labels");
                Map<String, String> lm = new LinkedHashMap<>();
                if (labels != null) {
                    if (!labels.isObject()) {
                        throw gr.error("labels", "must be an object of label: value");
                    }
                    for (var it = labels.fields(); it.hasNext(); ) {
                        var e = it.next();
                        if (!e.getValue().isTextual()) {
                            throw gr.error("labels." + e.getKey(), "must be a string, was " + e.getValue());
                        }
                        lm.put(e.getKey(), e.getValue().textValue());
                    }
                }
                gr.finish();
                total += weight;
                groups[g] = new LabelRule.Group(gname, weight, Map.copyOf(lm));
            }
            if (total != 100) {
                throw r.error("groups", "weights must add up to 100, they add up to " + total);
            }
            r.finish();
            if (enabled) {
                out.add(new LabelRule(name, app.equals("*") ? null : app, service.equals("*") ? null : service,
                        priority, i, conditions, groups, otherGroups, lower));
            }
        }
        return out;
    }
}
