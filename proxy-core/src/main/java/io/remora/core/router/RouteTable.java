package io.remora.core.router;

import io.remora.core.config.ConfigException;
import io.remora.core.config.SidecarConfig;
import io.remora.core.protocol.RequestHeaders;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * A compiled route config: routes hashed by service name, so a lookup costs one hash probe plus the few routes of that
 * service, however many services there are. Routes for a service are tried in config order, then the catch-all
 * routes (no service, or {@code "*"}) in config order.
 */
public final class RouteTable {

    private static final Route[] NONE = new Route[0];

    private final String name;
    private final Map<String, Route[]> byService;
    private final Route[] catchAll;

    private RouteTable(String name, Map<String, Route[]> byService, Route[] catchAll) {
        this.name = name;
        this.byService = byService;
        this.catchAll = catchAll;
    }

    public String name() {
        return name;
    }

    /** The first route matching {@code request}, or null (routes with a {@code destination} condition never match). */
    public Route match(RequestHeaders request) {
        return match(request, null);
    }

    /**
     * The first route matching {@code request} made on a connection to {@code destination} (the downstream
     * connection's local address: the original destination on a transparent listener), or null.
     */
    public Route match(RequestHeaders request, java.net.InetSocketAddress destination) {
        String service = request.service();
        if (service != null) {
            Route[] routes = byService.get(service);
            if (routes != null) {
                for (Route r : routes) {
                    if (r.matches(request, destination)) {
                        return r;
                    }
                }
            }
        }
        for (Route r : catchAll) {
            if (r.matches(request, destination)) {
                return r;
            }
        }
        return null;
    }

    /** Every route (for validation against the clusters). */
    public List<Route> routes() {
        List<Route> all = new ArrayList<>();
        byService.values().forEach(rs -> all.addAll(List.of(rs)));
        all.addAll(List.of(catchAll));
        return all;
    }

    /**
     * Compiles {@code routes}. Errors name the field under {@code path} (e.g. {@code route_configs[0].routes[2].cluster}).
     */
    public static RouteTable compile(String name, List<SidecarConfig.Route> routes, String path) throws ConfigException {
        Map<String, List<Route>> byService = new LinkedHashMap<>();
        List<Route> catchAll = new ArrayList<>();
        if (routes == null) {
            throw new ConfigException(path, "is required (a list of routes)");
        }
        for (int i = 0; i < routes.size(); i++) {
            String p = path + "[" + i + "]";
            SidecarConfig.Route r = routes.get(i);
            if (r == null) {
                throw new ConfigException(p, "must be an object");
            }
            SidecarConfig.RouteMatch m = r.match();
            String service = m == null ? null : m.service();
            Route compiled = compileRoute(r, p, i);
            if (service == null || service.equals("*")) {
                catchAll.add(compiled);
            } else if (service.isBlank()) {
                throw new ConfigException(p + ".match.service", "must not be blank (use \"*\" to match any service)");
            } else {
                byService.computeIfAbsent(service, k -> new ArrayList<>()).add(compiled);
            }
        }
        Map<String, Route[]> table = new HashMap<>(Math.max(16, byService.size() * 2));
        byService.forEach((k, v) -> table.put(k, v.toArray(NONE)));
        return new RouteTable(name, table, catchAll.toArray(NONE));
    }

    private static Route compileRoute(SidecarConfig.Route r, String p, int index) throws ConfigException {
        SidecarConfig.RouteMatch m = r.match();
        String method = m == null || m.method() == null || m.method().equals("*") ? null : m.method();
        List<HeaderMatcher> headers = new ArrayList<>();
        if (m != null && m.headers() != null) {
            for (int h = 0; h < m.headers().size(); h++) {
                headers.add(compileHeader(m.headers().get(h), p + ".match.headers[" + h + "]"));
            }
        }
        String[] clusters;
        int[] cumulative = null;
        boolean single = r.cluster() != null;
        boolean weighted = r.weightedClusters() != null;
        if (single == weighted) {
            throw new ConfigException(p, "needs exactly one of \"cluster\" and \"weighted_clusters\"");
        }
        if (single) {
            if (r.cluster().isBlank()) {
                throw new ConfigException(p + ".cluster", "must not be blank");
            }
            clusters = new String[] {r.cluster()};
        } else {
            List<SidecarConfig.WeightedCluster> wcs = r.weightedClusters();
            if (wcs.isEmpty()) {
                throw new ConfigException(p + ".weighted_clusters", "must not be empty");
            }
            clusters = new String[wcs.size()];
            cumulative = new int[wcs.size()];
            int total = 0;
            for (int w = 0; w < wcs.size(); w++) {
                SidecarConfig.WeightedCluster wc = wcs.get(w);
                String wp = p + ".weighted_clusters[" + w + "]";
                if (wc.cluster() == null || wc.cluster().isBlank()) {
                    throw new ConfigException(wp + ".cluster", "is required");
                }
                if (wc.weight() == null || wc.weight() < 0) {
                    throw new ConfigException(wp + ".weight", "must be >= 0, was " + wc.weight());
                }
                total += wc.weight();
                clusters[w] = wc.cluster();
                cumulative[w] = total;
            }
            if (total <= 0) {
                throw new ConfigException(p + ".weighted_clusters", "weights must add up to more than 0");
            }
        }
        long timeout = r.timeoutMs() == null ? 0 : r.timeoutMs();
        if (timeout < 0) {
            throw new ConfigException(p + ".timeout_ms", "must be >= 0, was " + timeout);
        }
        String name = r.name() != null ? r.name() : "route-" + index;
        String path = m == null ? null : m.path();
        String prefix = m == null ? null : m.prefix();
        String pathRegex = m == null ? null : m.pathRegex();
        int pathKinds = (path != null ? 1 : 0) + (prefix != null ? 1 : 0) + (pathRegex != null ? 1 : 0);
        if (pathKinds > 1) {
            throw new ConfigException(p + ".match", "takes at most one of \"path\", \"prefix\", \"path_regex\"");
        }
        Pattern pathPattern = null;
        if (pathRegex != null) {
            try {
                pathPattern = Pattern.compile(pathRegex);
            } catch (PatternSyntaxException e) {
                throw new ConfigException(p + ".match.path_regex", "is not a valid regular expression: \""
                        + pathRegex + "\" (" + e.getDescription() + ")");
            }
        }
        RetryPolicy retry = RetryPolicy.compile(r.retryPolicy(), p + ".retry_policy");
        DestinationMatcher dst = m == null || m.destination() == null ? null
                : DestinationMatcher.parse(m.destination(), p + ".match.destination");
        return new Route(name, method, headers.toArray(new HeaderMatcher[0]), clusters, cumulative, timeout, retry,
                path, prefix, pathPattern).destination(dst);
    }

    private static HeaderMatcher compileHeader(SidecarConfig.HeaderMatch h, String p) throws ConfigException {
        if (h == null || h.name() == null || h.name().isBlank()) {
            throw new ConfigException(p + ".name", "is required");
        }
        int kinds = (h.exact() != null ? 1 : 0) + (h.regex() != null ? 1 : 0) + (h.present() != null ? 1 : 0);
        if (kinds != 1) {
            throw new ConfigException(p, "needs exactly one of \"exact\", \"regex\", \"present\"");
        }
        Pattern regex = null;
        if (h.regex() != null) {
            try {
                regex = Pattern.compile(h.regex());
            } catch (PatternSyntaxException e) {
                throw new ConfigException(p + ".regex", "is not a valid regular expression: \"" + h.regex() + "\" ("
                        + e.getDescription() + ")");
            }
        }
        return new HeaderMatcher(h.name(), h.exact(), regex, h.present());
    }
}
