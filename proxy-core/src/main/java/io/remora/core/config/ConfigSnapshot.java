package io.remora.core.config;

import io.remora.core.cluster.Cluster;
import io.remora.core.router.HostSelector;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.Map;

/**
 * One immutable, compiled configuration. Published by a single atomic swap in {@link ConfigManager}; a request uses
 * the snapshot it started with until it ends.
 */
public final class ConfigSnapshot {

    private final SidecarConfig source;
    private final long version;
    private final Instant appliedAt;
    private final String sourceName;
    private final Map<String, ListenerSpec> listeners;
    private final Map<String, Cluster> clusters;
    private final InetSocketAddress adminAddress;
    private final int workerThreads;
    private final HostSelector hostSelector;

    ConfigSnapshot(SidecarConfig source, long version, Instant appliedAt, String sourceName,
                   Map<String, ListenerSpec> listeners, Map<String, Cluster> clusters,
                   InetSocketAddress adminAddress, int workerThreads, HostSelector hostSelector) {
        this.hostSelector = hostSelector;
        this.source = source;
        this.version = version;
        this.appliedAt = appliedAt;
        this.sourceName = sourceName;
        this.listeners = listeners;
        this.clusters = clusters;
        this.adminAddress = adminAddress;
        this.workerThreads = workerThreads;
    }

    /** The config this snapshot was compiled from. */
    public SidecarConfig source() {
        return source;
    }

    /** Increases by one with every applied config. */
    public long version() {
        return version;
    }

    public Instant appliedAt() {
        return appliedAt;
    }

    /** Where the config came from (file path, {@code admin}, {@code xds}). */
    public String sourceName() {
        return sourceName;
    }

    public Map<String, ListenerSpec> listeners() {
        return listeners;
    }

    public Map<String, Cluster> clusters() {
        return clusters;
    }

    /** The cluster named {@code name}, or null. */
    public Cluster cluster(String name) {
        return clusters.get(name);
    }

    /** The admin API's TCP address, or null when it is served on its Unix socket only ({@code admin.unix_socket}). */
    public InetSocketAddress adminAddress() {
        return adminAddress;
    }

    /** Label routing (or another plugin's host selection) compiled for this snapshot, or null. */
    public HostSelector hostSelector() {
        return hostSelector;
    }

    public int workerThreads() {
        return workerThreads;
    }
}
