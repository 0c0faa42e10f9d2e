package io.remora.core.cluster;

import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The hosts of an {@code original_dst} cluster: one {@link Host} per original destination, created on first use and
 * kept (across config snapshots, via {@link HostRegistry}) so upstream connections to a destination are pooled.
 */
public final class OriginalDstHosts {

    /** Bound on remembered destinations; past it the map starts over (pooled connections then reconnect once). */
    static final int MAX_HOSTS = 4096;

    private final String cluster;
    private final HealthEpoch epoch;
    private final Map<InetSocketAddress, Host> hosts = new ConcurrentHashMap<>();

    OriginalDstHosts(String cluster, HealthEpoch epoch) {
        this.cluster = cluster;
        this.epoch = epoch;
    }

    /** The host for {@code destination}, or null when there is none (unresolved or no port). */
    public Host host(InetSocketAddress destination) {
        if (destination == null || destination.getAddress() == null || destination.getPort() == 0) {
            return null;
        }
        Host h = hosts.get(destination);
        if (h != null) {
            return h;
        }
        if (hosts.size() >= MAX_HOSTS) {
            hosts.clear();
        }
        return hosts.computeIfAbsent(destination, d -> new Host(cluster, text(d), d, 1, Map.of(), epoch));
    }

    int size() {
        return hosts.size();
    }

    static String text(InetSocketAddress a) {
        String ip = a.getAddress().getHostAddress();
        return a.getAddress() instanceof Inet6Address ? "[" + ip + "]:" + a.getPort() : ip + ":" + a.getPort();
    }
}
