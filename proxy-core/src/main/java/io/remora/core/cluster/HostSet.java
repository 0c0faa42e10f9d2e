package io.remora.core.cluster;

/**
 * A fixed array of hosts to balance over (a whole cluster, or a label-routing subset built once per snapshot), with
 * a cached view of its healthy hosts rebuilt only when the cluster's {@link HealthEpoch} moves (a health change is
 * rare; a request is one volatile read and a compare). Panic: when fewer than {@code panicPercent}% of the hosts are
 * healthy, balance over all of them rather than overload the few healthy ones (Envoy's panic threshold).
 */
public final class HostSet {

    /** A set with no hosts. */
    public static final HostSet EMPTY = new HostSet(new Host[0], "round_robin", new HealthEpoch(), 0);

    private static final int MAX_PICK_ATTEMPTS = 3;

    private final Host[] hosts;
    private final LoadBalancer loadBalancer;
    private final HealthEpoch epoch;
    private final int panicPercent;
    private final boolean weighted;
    private volatile View view;

    /** What a pick balances over, for one health epoch. */
    static final class View {
        final long epoch;
        final Host[] hosts;
        /** Cumulative weights of {@link #hosts} (weighted policy only). */
        final long[] cumulative;
        final int healthy;
        final boolean panic;

        View(long epoch, Host[] hosts, long[] cumulative, int healthy, boolean panic) {
            this.epoch = epoch;
            this.hosts = hosts;
            this.cumulative = cumulative;
            this.healthy = healthy;
            this.panic = panic;
        }
    }

    HostSet(Host[] hosts, String lbPolicy, HealthEpoch epoch, int panicPercent) {
        this.hosts = hosts;
        this.loadBalancer = LoadBalancer.of(lbPolicy);
        this.weighted = lbPolicy.equals("weighted");
        this.epoch = epoch;
        this.panicPercent = panicPercent;
    }

    public Host[] hosts() {
        return hosts;
    }

    public int size() {
        return hosts.length;
    }

    /** Hosts currently healthy (health checks and outlier ejection). */
    public int healthyCount() {
        return view().healthy;
    }

    /** True when too few hosts are healthy and picks go over all of them. */
    public boolean panic() {
        return view().panic;
    }

    View view() {
        long e = epoch.get();
        View v = view;
        if (v != null && v.epoch == e) {
            return v;
        }
        v = build(e);
        view = v;
        return v;
    }

    private View build(long e) {
        int healthy = 0;
        for (Host h : hosts) {
            if (h.healthy()) {
                healthy++;
            }
        }
        boolean panic = healthy == 0 || (long) healthy * 100 < (long) panicPercent * hosts.length;
        Host[] pickFrom;
        if (panic || healthy == hosts.length) {
            pickFrom = hosts;
        } else {
            pickFrom = new Host[healthy];
            int i = 0;
            for (Host h : hosts) {
                if (h.healthy()) {
                    pickFrom[i++] = h;
                }
            }
        }
        long[] cum = null;
        if (weighted) {
            cum = new long[pickFrom.length];
            long total = 0;
            for (int i = 0; i < pickFrom.length; i++) {
                total += Math.max(0, pickFrom[i].weight());
                cum[i] = total;
            }
        }
        return new View(e, pickFrom, cum, healthy, panic && hosts.length > 0);
    }

    /**
     * Picks a healthy host, skipping ones a recent connect failure took out of rotation. Null only when the set is
     * empty; if every candidate is out of rotation it still returns one (better a try than a certain failure).
     */
    public Host choose(long nowNanos) {
        return choose(nowNanos, null);
    }

    /** As {@link #choose(long)}, avoiding {@code avoid} (a retry's previous host) when there is another choice. */
    public Host choose(long nowNanos, Host avoid) {
        if (hosts.length == 0) {
            return null;
        }
        View v = view();
        Host first = null;
        for (int attempt = 0; attempt < MAX_PICK_ATTEMPTS; attempt++) {
            Host h = loadBalancer.choose(v, attempt);
            if (h.available(nowNanos) && (h != avoid || v.hosts.length == 1)) {
                return h;
            }
            if (first == null) {
                first = h;
            }
        }
        Host[] hs = v.hosts;
        if (hs.length <= 64) {
            for (Host h : hs) {
                if (h != avoid && h.available(nowNanos)) {
                    return h;
                }
            }
        }
        return first;
    }
}
