package io.remora.xds;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.remora.core.config.SidecarConfig;
import io.remora.xds.XdsResources.XCluster;
import io.remora.xds.XdsResources.XEndpoints;
import io.remora.xds.XdsResources.XListener;
import io.remora.xds.XdsResources.XRoute;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * Builds one {@link SidecarConfig} from the bootstrap and the accepted xDS resources, with warming: a cluster joins once
 * its endpoints arrived, a listener once its route configuration and every cluster it routes to are in. Something still
 * warming is reported as a waiting key ({@code eds:<name>}, {@code rds:<name>}, {@code listener:<name>}); once the
 * caller says a key expired, a cluster joins with no hosts and a listener stays out. A listener that served before and
 * is warming again keeps its previous version (and the clusters it routes to), so its sockets and connections
 * survive.
 */
final class ConfigAssembler {

    /** {@code waiting}: every key not warm yet, expired or not (the caller tracks since when). */
    record Result(SidecarConfig config, Set<String> waiting) {
    }

    private ConfigAssembler() {
    }

    static Result assemble(SidecarConfig base, Map<String, XCluster> clusters, Map<String, XEndpoints> endpoints,
                           Map<String, XListener> listeners, Map<String, XRoute> routes, SidecarConfig previous,
                           Predicate<String> expired) throws io.remora.core.config.ConfigException {
        return assemble(base, clusters, endpoints, listeners, routes, Set.of(), previous, expired);
    }

    /**
     * {@code secrets}: the names of the SDS secrets held; a cluster or listener whose TLS names another one warms
     * ({@code sds:<name>}) like one waiting for its endpoints or routes.
     */
    static Result assemble(SidecarConfig base, Map<String, XCluster> clusters, Map<String, XEndpoints> endpoints,
                           Map<String, XListener> listeners, Map<String, XRoute> routes, Set<String> secrets,
                           SidecarConfig previous, Predicate<String> expired)
            throws io.remora.core.config.ConfigException {
        Set<String> waiting = new LinkedHashSet<>();
        Map<String, String> skipped = new TreeMap<>();
        Map<String, SidecarConfig.Cluster> clustersOut = new LinkedHashMap<>();
        if (base.clusters() != null) {
            base.clusters().forEach(c -> clustersOut.put(c.name(), c));
        }
        for (XCluster xc : new TreeMap<>(clusters).values()) {
            SidecarConfig.Cluster c = xc.config();
            if (xc.skipped() != null) {
                skipped.put(c.name(), xc.skipped());
                continue;
            }
            String missingSecret = firstMissing(xc.secrets(), secrets);
            if (missingSecret != null) {
                String key = "sds:" + missingSecret;
                waiting.add(key);
                if (!expired.test(key)) {
                    continue;
                }
            }
            if (xc.edsName() == null) {
                clustersOut.put(c.name(), c);
                continue;
            }
            XEndpoints ep = endpoints.get(xc.edsName());
            String key = "eds:" + xc.edsName();
            if (ep == null) {
                waiting.add(key);
            }
            if (ep != null || expired.test(key)) {
                clustersOut.put(c.name(), withHosts(c, ep == null ? List.of() : ep.hosts(), xc.weightsFromEndpoints(),
                        xc.maxEjectionPercent()));
            }
        }

        Map<String, SidecarConfig.RouteConfig> routesOut = new LinkedHashMap<>();
        if (base.routeConfigs() != null) {
            base.routeConfigs().forEach(r -> routesOut.put(r.name(), r));
        }
        List<SidecarConfig.Listener> listenersOut = new ArrayList<>();
        if (base.listeners() != null) {
            listenersOut.addAll(base.listeners());
        }
        ObjectNode governance = null;
        for (XListener xl : new TreeMap<>(listeners).values()) {
            if (xl.governance() != null) {
                governance = merge(governance, xl.governance());
            }
            if (xl.listener() == null) {
                continue;
            }
            Set<String> refs = new LinkedHashSet<>(xl.inlineClusters());
            String missingRds = null;
            for (String rds : xl.rdsNames()) {
                if (routes.get(rds) != null) {
                    refs.addAll(routes.get(rds).clusters());
                } else if (missingRds == null) {
                    missingRds = rds;
                }
            }
            for (String ref : refs) {
                if (skipped.containsKey(ref)) {
                    throw new io.remora.core.config.ConfigException("listener \"" + xl.name() + "\"",
                            "routes to cluster \"" + ref + "\", which was skipped: " + skipped.get(ref));
                }
            }
            String missingSecret = firstMissing(xl.secrets(), secrets);
            String key;
            if (missingRds != null) {
                key = "rds:" + missingRds;
            } else if (!clustersOut.keySet().containsAll(refs)) {
                key = "listener:" + xl.name();
            } else if (missingSecret != null && !expired.test("sds:" + missingSecret)) {
                key = "sds:" + missingSecret;
            } else {
                for (String rds : xl.rdsNames()) {
                    routesOut.put(rds, routes.get(rds).config());
                }
                listenersOut.add(xl.listener());
                continue;
            }
            waiting.add(key);
            keepPrevious(xl.name(), previous, clustersOut, routesOut, listenersOut);
        }

        Map<String, JsonNode> ext = new LinkedHashMap<>();
        if (base.extensions() != null) {
            ext.putAll(base.extensions());
        }
        if (governance != null) {
            ext.put("governance", ext.get("governance") instanceof ObjectNode b ? merge(b.deepCopy(), governance)
                    : governance);
        }
        SidecarConfig cfg = new SidecarConfig(base.node(), base.workerThreads(), base.admin(), base.log(),
                listenersOut, routesOut.isEmpty() ? null : new ArrayList<>(routesOut.values()),
                new ArrayList<>(clustersOut.values()), ext.isEmpty() ? null : ext, base.metrics(), base.limits(),
                base.overload());
        return new Result(cfg, waiting);
    }

    /** A warming listener that served before keeps serving its previous version, if its clusters are still there. */
    private static void keepPrevious(String name, SidecarConfig previous, Map<String, SidecarConfig.Cluster> clusters,
                                     Map<String, SidecarConfig.RouteConfig> routesOut,
                                     List<SidecarConfig.Listener> listenersOut) {
        if (previous == null || previous.listeners() == null) {
            return;
        }
        for (SidecarConfig.Listener l : previous.listeners()) {
            if (!l.name().equals(name)) {
                continue;
            }
            List<String> rcNames = new ArrayList<>();
            List<SidecarConfig.Route> rs = new ArrayList<>();
            if (l.routeConfig() != null) {
                rcNames.add(l.routeConfig());
            }
            if (l.routes() != null) {
                rs.addAll(l.routes());
            }
            List<SidecarConfig.FilterChain> chains = new ArrayList<>();
            if (l.filterChains() != null) {
                chains.addAll(l.filterChains());
            }
            if (l.defaultFilterChain() != null) {
                chains.add(l.defaultFilterChain());
            }
            for (SidecarConfig.FilterChain fc : chains) {
                if (fc.routeConfig() != null) {
                    rcNames.add(fc.routeConfig());
                }
                if (fc.routes() != null) {
                    rs.addAll(fc.routes());
                }
            }
            List<SidecarConfig.RouteConfig> rcs = new ArrayList<>();
            for (String rcName : rcNames) {
                SidecarConfig.RouteConfig rc = routesOut.get(rcName);
                if (rc == null && previous.routeConfigs() != null) {
                    rc = previous.routeConfigs().stream().filter(r -> r.name().equals(rcName)).findFirst()
                            .orElse(null);
                }
                if (rc == null) {
                    return;
                }
                rcs.add(rc);
                rs.addAll(rc.routes());
            }
            // Clusters it routes to that CDS removed stay until the routes stop naming them.
            Map<String, SidecarConfig.Cluster> keep = new LinkedHashMap<>();
            for (SidecarConfig.Route r : rs) {
                List<String> names = new ArrayList<>();
                if (r.cluster() != null) {
                    names.add(r.cluster());
                }
                if (r.weightedClusters() != null) {
                    r.weightedClusters().forEach(w -> names.add(w.cluster()));
                }
                for (String n : names) {
                    if (!clusters.containsKey(n)) {
                        SidecarConfig.Cluster old = previous.clusters() == null ? null : previous.clusters().stream()
                                .filter(c -> c.name().equals(n)).findFirst().orElse(null);
                        if (old == null) {
                            return;
                        }
                        keep.put(n, old);
                    }
                }
            }
            clusters.putAll(keep);
            for (SidecarConfig.RouteConfig rc : rcs) {
                routesOut.putIfAbsent(rc.name(), rc);
            }
            listenersOut.add(l);
            return;
        }
    }

    private static String firstMissing(Set<String> wanted, Set<String> held) {
        for (String w : wanted) {
            if (!held.contains(w)) {
                return w;
            }
        }
        return null;
    }

    /** {@code weighted} (weighted random) when the hosts' weights differ, else {@code lb} unchanged. */
    static String policy(String lb, List<SidecarConfig.Host> hosts) {
        if (hosts == null || lb.equals("weighted")) {
            return lb;
        }
        Integer first = null;
        for (SidecarConfig.Host h : hosts) {
            int w = h.weight() == null ? 1 : h.weight();
            if (first == null) {
                first = w;
            } else if (first != w) {
                return "weighted";
            }
        }
        return lb;
    }

    private static SidecarConfig.Cluster withHosts(SidecarConfig.Cluster c, List<SidecarConfig.Host> hosts,
                                                   boolean weightsFromEndpoints, int maxEjectionPercent) {
        SidecarConfig.OutlierDetection o = c.outlierDetection();
        if (o != null) {
            // Envoy's max_ejection_percent of the endpoints, never less than one host (as Envoy)
            int max = Math.max(1, hosts.size() * maxEjectionPercent / 100);
            o = new SidecarConfig.OutlierDetection(o.windowSeconds(), o.minRequests(), o.errorRatioPercent(),
                    o.thresholdMultiple(), max, o.baseIsolationMs(), o.maxIsolationMs(), o.mode());
        }
        return c.withHosts(weightsFromEndpoints ? policy(c.lbPolicy(), hosts) : c.lbPolicy(), hosts, o);
    }

    /**
     * Governance carried by several listeners (or HTTP filters) is merged in order: lists of the same kind are
     * concatenated, any other top-level field of {@code add} wins.
     */
    static ObjectNode merge(ObjectNode into, JsonNode add) {
        ObjectNode out = into == null ? JsonNodeFactory.instance.objectNode() : into;
        if (add.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = add.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                JsonNode old = out.get(e.getKey());
                if (old instanceof com.fasterxml.jackson.databind.node.ArrayNode a && e.getValue().isArray()) {
                    a.addAll((com.fasterxml.jackson.databind.node.ArrayNode) e.getValue());
                } else {
                    out.set(e.getKey(), e.getValue().deepCopy());
                }
            }
        }
        return out;
    }
}
