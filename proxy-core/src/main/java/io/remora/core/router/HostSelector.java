package io.remora.core.router;

import io.remora.core.cluster.Cluster;
import io.remora.core.cluster.HostSet;
import io.remora.core.filter.RequestContext;

/**
 * Narrows the hosts of a cluster for one request (label routing). Compiled once per snapshot by a
 * {@link HostSelectorFactory}; {@link #select} runs on the event loop for every routed request, so it must not block
 * or scan hosts: subsets are built at compile time.
 */
public interface HostSelector {

    /**
     * The hosts to balance over for {@code request} in {@code cluster}: null = the whole cluster; an empty set
     * ({@link HostSet#size()} 0) = no instance may serve it (the request fails with NO_HEALTHY_UPSTREAM).
     */
    HostSet select(RequestContext request, Cluster cluster);
}
