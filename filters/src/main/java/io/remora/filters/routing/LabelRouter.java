package io.remora.filters.routing;

import io.remora.core.cluster.Cluster;
import io.remora.core.cluster.HostSet;
import io.remora.core.filter.RequestContext;
import io.remora.core.router.HostSelector;
import java.util.Map;
import org.slf4j.Logger;

/**
 * The compiled label-routing rules of one snapshot. Rules are merged per service (plus the {@code "*"} rules) and
 * sorted by priority, highest first, at compile time; a request costs one hash probe and the conditions of the rules
 * of its service. The first enabled rule whose app and conditions match decides; see docs/routing.md for fallbacks.
 */
final class LabelRouter implements HostSelector {

    private static final LabelRule[] NONE = new LabelRule[0];

    private final Map<String, LabelRule[]> byService;
    private final LabelRule[] anyService;
    private final LabelRule.LabelIndex index;
    private final Logger log;

    LabelRouter(Map<String, LabelRule[]> byService, LabelRule[] anyService, LabelRule.LabelIndex index, Logger log) {
        this.byService = byService;
        this.anyService = anyService;
        this.index = index;
        this.log = log;
    }

    /** Builds every exact-app rule's group subsets now (at compile time), so requests never scan hosts. */
    void precompute(Map<String, Cluster> clusters) {
        for (LabelRule[] rules : byService.values()) {
            for (LabelRule r : rules) {
                if (r.app != null) {
                    Cluster c = clusters.get(r.app);
                    if (c != null) {
                        r.subsets(c, index);
                    }
                }
            }
        }
    }

    @Override
    public HostSet select(RequestContext ctx, Cluster cluster) {
        String service = ctx.request().service();
        LabelRule[] rules = service == null ? anyService : byService.getOrDefault(service, anyService);
        for (LabelRule rule : rules) {
            if (!rule.appliesTo(cluster) || !rule.conditions.matches(ctx)) {
                continue;
            }
            HostSet[] sets = rule.subsets(cluster, index);
            int g = rule.pickGroup();
            if (usable(sets[g])) {
                if (log.isDebugEnabled()) {
                    log.debug("{}#{} from {}: rule {} (priority {}) -> group {} ({} host(s))", service,
                            ctx.request().method(), ctx.callerApp(), rule.name, rule.priority, rule.groups[g].name(),
                            sets[g].size());
                }
                return sets[g];
            }
            if (rule.fallbackOtherGroups) {
                for (int i = 0; i < sets.length; i++) {
                    if (i != g && usable(sets[i])) {
                        if (log.isDebugEnabled()) {
                            log.debug("{}#{}: rule {} group {} has no instance, fell back to group {}", service,
                                    ctx.request().method(), rule.name, rule.groups[g].name(), rule.groups[i].name());
                        }
                        return sets[i];
                    }
                }
            }
            if (rule.fallbackLowerPriority) {
                if (log.isDebugEnabled()) {
                    log.debug("{}#{}: rule {} found no instance, trying lower-priority rules", service,
                            ctx.request().method(), rule.name);
                }
                continue;
            }
            if (log.isDebugEnabled()) {
                log.debug("{}#{}: rule {} found no instance and falls back to nothing: request refused", service,
                        ctx.request().method(), rule.name);
            }
            return HostSet.EMPTY;
        }
        return null;
    }

    private static boolean usable(HostSet s) {
        return s.size() > 0 && s.healthyCount() > 0;
    }

    static LabelRule[] none() {
        return NONE;
    }
}
