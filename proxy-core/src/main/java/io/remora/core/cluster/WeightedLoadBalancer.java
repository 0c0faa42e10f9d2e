package io.remora.core.cluster;

import java.util.concurrent.ThreadLocalRandom;

/**
 * Weighted random: a host is picked with probability weight / total. Cumulative weights are computed with the
 * {@link HostSet.View} (once per host set and health change), so a pick is one random draw and a binary search.
 */
final class WeightedLoadBalancer implements LoadBalancer {

    @Override
    public Host choose(HostSet.View view, int attempt) {
        Host[] hosts = view.hosts;
        long[] cum = view.cumulative;
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
