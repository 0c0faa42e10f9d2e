package io.remora.core.cluster;

import java.util.concurrent.atomic.AtomicInteger;

/** Strict rotation over the hosts. One shared counter: contention is a single uncontended-ish CAS per request. */
final class RoundRobinLoadBalancer implements LoadBalancer {

    private final AtomicInteger next = new AtomicInteger();

    @Override
    public Host choose(HostSet.View view, int attempt) {
        Host[] hosts = view.hosts;
        return hosts[(next.getAndIncrement() & Integer.MAX_VALUE) % hosts.length];
    }
}
