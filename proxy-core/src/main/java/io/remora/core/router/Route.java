package io.remora.core.router;

import io.remora.core.protocol.RequestHeaders;
import java.util.concurrent.ThreadLocalRandom;

/** One compiled route: conditions beyond the service (method, headers) and where matching requests go. */
public final class Route {

    private final String name;
    private final String method;
    private final HeaderMatcher[] headers;
    private final String[] clusters;
    /** Cumulative weights, same length as clusters; null for a single cluster. */
    private final int[] cumulativeWeights;
    private final long timeoutMillis;
    /** At most one of these is set (path conditions, for protocols with a path). */
    private final String path;
    private final String prefix;
    private final java.util.regex.Pattern pathRegex;
    private final RetryPolicy retryPolicy;

    Route(String name, String method, HeaderMatcher[] headers, String[] clusters, int[] cumulativeWeights,
          long timeoutMillis, RetryPolicy retryPolicy) {
        this(name, method, headers, clusters, cumulativeWeights, timeoutMillis, retryPolicy, null, null, null);
    }

    Route(String name, String method, HeaderMatcher[] headers, String[] clusters, int[] cumulativeWeights,
          long timeoutMillis, RetryPolicy retryPolicy, String path, String prefix,
          java.util.regex.Pattern pathRegex) {
        this.path = path;
        this.prefix = prefix;
        this.pathRegex = pathRegex;
        this.retryPolicy = retryPolicy;
        this.name = name;
        this.method = method;
        this.headers = headers;
        this.clusters = clusters;
        this.cumulativeWeights = cumulativeWeights;
        this.timeoutMillis = timeoutMillis;
    }

    public String name() {
        return name;
    }

    /** The route's timeout in ms, used when the request carries none; 0 = none. */
    public long timeoutMillis() {
        return timeoutMillis;
    }

    /** The retry policy, or null for none. */
    public RetryPolicy retryPolicy() {
        return retryPolicy;
    }

    /** The {@code destination} condition, or null; set once by the compiler before the table is published. */
    private DestinationMatcher destination;

    Route destination(DestinationMatcher d) {
        this.destination = d;
        return this;
    }

    boolean matches(RequestHeaders request) {
        return matches(request, null);
    }

    boolean matches(RequestHeaders request, java.net.InetSocketAddress dst) {
        if (destination != null && !destination.matches(dst)) {
            return false;
        }
        if (method != null && !method.equals(request.method())) {
            return false;
        }
        if (path != null || prefix != null || pathRegex != null) {
            String p = request.path();
            if (p == null || (path != null && !path.equals(p)) || (prefix != null && !p.startsWith(prefix))
                    || (pathRegex != null && !pathRegex.matcher(p).matches())) {
                return false;
            }
        }
        for (HeaderMatcher h : headers) {
            if (!h.matches(request)) {
                return false;
            }
        }
        return true;
    }

    /** The target cluster; for weighted routes, drawn by weight. */
    public String pickCluster() {
        if (cumulativeWeights == null) {
            return clusters[0];
        }
        int total = cumulativeWeights[cumulativeWeights.length - 1];
        int r = ThreadLocalRandom.current().nextInt(total);
        for (int i = 0; i < cumulativeWeights.length; i++) {
            if (r < cumulativeWeights[i]) {
                return clusters[i];
            }
        }
        return clusters[clusters.length - 1];
    }

    /** All clusters this route may send to (for validation). */
    public String[] clusters() {
        return clusters.clone();
    }
}
