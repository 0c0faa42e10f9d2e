package io.remora.core.cluster;

import java.util.concurrent.ThreadLocalRandom;

final class RandomLoadBalancer implements LoadBalancer {

    @Override
    public Host choose(Host[] hosts, int attempt) {
        return hosts[ThreadLocalRandom.current().nextInt(hosts.length)];
    }
}
