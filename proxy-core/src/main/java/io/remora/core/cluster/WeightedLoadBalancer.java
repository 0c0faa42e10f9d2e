package io.remora.core.cluster;

import java.util.concurrent.ThreadLocalRandom;

/**
 * Weighted random: a host is picked with probability weight / total. Cumulative weights are computed once per host
 * array (a cluster's host array changes only with a new snapshot), so a pick is one random draw and a binary search.
 */
final class WeightedLoadBalancer implements LoadBalancer {

    private volatile Host[] cachedFor;
    private volatile long[] cumulative;

    @Override
    public Host choose(Host[] hosts, int attempt) {
        long[] cum = cumulative;
        if (cachedFor != hosts || cum == null) {
            cum = new long[hosts.length];
            long total = 0;
            for (int i = 0; i < hosts.length; i++) {
                total += Math.max(0, hosts[i].weight());
                cum[i] = total;
            }
            cumulative = cum;
            cachedFor = hosts;
        }
        long total = cum[cum.length - 1];
        if (total <= 0) {
            return hosts[ThreadLocalRandom.current().nextInt(hosts.length)];
        }
        long r = ThreadLocalRandom.current().nextLong(total);
        int lo = 0;
        int hi = cum.length - 1;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (r < cum[mid]) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        return hosts[lo];
    }
}
