package io.remora.core.cluster;

import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Keeps {@link Host} identity across config snapshots: the same cluster and address give the same object, so health
 * state survives a config change. Used only by the config compiler (off the event loops).
 */
public final class HostRegistry {

    private final Map<String, Host> hosts = new ConcurrentHashMap<>();
    private final Map<String, HealthEpoch> epochs = new ConcurrentHashMap<>();

    public Host host(String cluster, String address, InetSocketAddress socketAddress, int weight,
                     Map<String, String> labels) {
        Host h = hosts.computeIfAbsent(cluster + "|" + address,
                k -> new Host(cluster, address, socketAddress, weight, labels, epoch(cluster)));
        h.update(weight, labels);
        return h;
    }

    /** The health epoch shared by every snapshot's version of cluster {@code cluster}. */
    HealthEpoch epoch(String cluster) {
        return epochs.computeIfAbsent(cluster, k -> new HealthEpoch());
    }

    private final Map<String, OriginalDstHosts> originalDst = new ConcurrentHashMap<>();

    /** The per-destination hosts of {@code original_dst} cluster {@code cluster} (same object across snapshots). */
    public OriginalDstHosts originalDst(String cluster) {
        return originalDst.computeIfAbsent(cluster, k -> new OriginalDstHosts(k, epoch(k)));
    }

    /** Forgets hosts no longer in any cluster of the given live set. */
    public void retainOnly(java.util.Set<Host> live) {
        hosts.values().removeIf(h -> !live.contains(h));
    }
}
