package io.remora.core.cluster;

import java.util.concurrent.ThreadLocalRandom;

/** Power of two choices: two random hosts, the one with fewer requests in flight wins (weights are ignored). */
final class LeastRequestLoadBalancer implements LoadBalancer {

    @Override
    public Host choose(HostSet.View view, int attempt) {
        Host[] hosts = view.hosts;
        int n = hosts.length;
        ThreadLocalRandom r = ThreadLocalRandom.current();
        if (n == 1) {
            return hosts[0];
        }
        int a = r.nextInt(n);
        int b = r.nextInt(n - 1);
        if (b >= a) {
            b++;
        }
        Host ha = hosts[a];
        Host hb = hosts[b];
        return hb.activeRequests() < ha.activeRequests() ? hb : ha;
    }
}
