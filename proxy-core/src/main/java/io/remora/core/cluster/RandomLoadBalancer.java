package io.remora.core.cluster;

import java.util.concurrent.ThreadLocalRandom;

final class RandomLoadBalancer implements LoadBalancer {

    @Override
    public Host choose(HostSet.View view, int attempt) {
        Host[] hosts = view.hosts;
        return hosts[ThreadLocalRandom.current().nextInt(hosts.length)];
    }
}
