package io.remora.xds;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.service.discovery.v3.Resource;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainSocketAddress;
import io.remora.core.config.ConfigException;
import io.remora.core.config.ConfigManager;
import io.remora.core.config.SidecarConfig;
import io.remora.xds.XdsResources.XCluster;
import io.remora.xds.XdsResources.XEndpoints;
import io.remora.xds.XdsResources.XListener;
import io.remora.xds.XdsResources.XRoute;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;

/**
 * An ADS client speaking state of the world or delta ({@link XdsWire}; {@code auto} tries delta and falls back to
 * SotW on UNIMPLEMENTED). Everything it owns is touched only on its single thread ({@code remora-xds}); gRPC
 * callbacks hop onto it. Each accepted response, of either dialect, changes the one resource store (the
 * {@link TypeState}s), which is translated, assembled and applied as ONE config ({@link ConfigManager#apply}); a
 * rejected one is NACKed and changes nothing.
 */
final class AdsClient {

    enum State { CONNECTING, CONNECTED, BACKOFF, STOPPED }

    private static final long NACK_REPEAT_BASE_MS = 1_000;
    private static final long NACK_REPEAT_MAX_MS = 30_000;

    private final XdsBootstrap boot;
    private final SidecarConfig base;
    private final ConfigManager config;
    private final Logger log;
    private final ScheduledExecutorService exec;
    private final Backoff backoff;
    private final XdsTranslator translator;
    private final Set<String> warned = ConcurrentHashMap.newKeySet();
    private final Node node;
    private final Map<String, TypeState> types = new LinkedHashMap<>();
    private final Map<String, List<XdsUpdate>> held = new LinkedHashMap<>();
    private final Map<String, Long> waitingSince = new HashMap<>();

    final AtomicLong updates = new AtomicLong();
    final AtomicLong acks = new AtomicLong();
    final AtomicLong nacks = new AtomicLong();
    final AtomicLong reconnects = new AtomicLong();
    final AtomicLong disconnects = new AtomicLong();
    final AtomicLong applies = new AtomicLong();
    final AtomicLong applyFailures = new AtomicLong();
    final AtomicLong resyncs = new AtomicLong();

    private ManagedChannel channel;
    private MultiThreadIoEventLoopGroup udsGroup;
    private XdsWire wire;
    /** istio-agent's SDS server ({@code extensions.xds.sds_address}): secrets on their own stream, not over ADS. */
    private ManagedChannel sdsChannel;
    private MultiThreadIoEventLoopGroup sdsUdsGroup;
    private XdsWire sdsWire;
    private long sdsStreamId;
    private Backoff sdsBackoff;
    private long streamId;
    private boolean streamAnswered;
    /** {@code auto} only: the control plane answered delta with UNIMPLEMENTED, so this client speaks SotW. */
    private boolean deltaUnimplemented;
    private volatile State state = State.CONNECTING;

    State connectionState() {
        return state;
    }
    private volatile boolean frozen;
    private volatile boolean ready;
    private volatile String lastError;
    private boolean initialFetchTimedOut;
    private SidecarConfig lastApplied;
    private long lastApplyMillis = -1;
    private long lastProcessMillis = -1;
    private long lastBackoffMillis;
    private Instant lastAppliedAt;
    private ScheduledFuture<?> warmingTimer;

    /** Where SDS secrets go (never into the config); one per sidecar. */
    private final io.remora.core.tls.SecretStore secretStore;
    /** Secret names this client put into the store, so a secret no longer held is taken out again. */
    private final Set<String> secretsPut = new HashSet<>();

    AdsClient(XdsBootstrap boot, SidecarConfig base, ConfigManager config, Logger log) {
        this(boot, base, config, log, new io.remora.core.tls.SecretStore());
    }

    AdsClient(XdsBootstrap boot, SidecarConfig base, ConfigManager config, Logger log,
              io.remora.core.tls.SecretStore secretStore) {
        this.secretStore = secretStore;
        this.boot = boot;
        this.base = base;
        this.config = config;
        this.log = log;
        this.exec = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "remora-xds");
            t.setDaemon(true);
            return t;
        });
        this.backoff = new Backoff(boot.reconnectBaseMs(), boot.reconnectMaxMs(),
                bound -> bound <= 0 ? 0 : ThreadLocalRandom.current().nextLong(bound));
        this.translator = new XdsTranslator(w -> {
            if (warned.add(w)) {
                log.warn("xds: {}", w);
            }
        });
        this.node = boot.node();
        for (String t : XdsResources.ORDER) {
            types.put(t, new TypeState(t));
        }
    }

    void start() {
        channel = buildChannel(boot.address(), false);
        if (boot.sdsAddress() != null) {
            sdsChannel = buildChannel(boot.sdsAddress(), true);
            sdsBackoff = new Backoff(boot.reconnectBaseMs(), boot.reconnectMaxMs(),
                    bound -> bound <= 0 ? 0 : ThreadLocalRandom.current().nextLong(bound));
            log.info("xds: secrets from the SDS server at {}", boot.sdsAddress());
            exec.execute(this::connectSds);
        }
        log.info("xds: node {} connecting to {} (api {}, initial fetch timeout {} ms)", boot.nodeId(), boot.address(),
                boot.api().name().toLowerCase(), boot.initialFetchTimeoutMs());
        exec.execute(this::connect);
        exec.schedule(this::initialFetchTimeout, boot.initialFetchTimeoutMs(), TimeUnit.MILLISECONDS);
    }

    void stop() {
        try {
            exec.submit(() -> {
                state = State.STOPPED;
                if (wire != null) {
                    wire.close();
                }
                if (sdsWire != null) {
                    sdsWire.close();
                }
            }).get(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            log.warn("xds: closing the stream failed: {}", e.toString());
        }
        exec.shutdownNow();
        if (channel != null) {
            channel.shutdownNow();
            try {
                channel.awaitTermination(2, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (udsGroup != null) {
            udsGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
        if (sdsChannel != null) {
            sdsChannel.shutdownNow();
        }
        if (sdsUdsGroup != null) {
            sdsUdsGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }

    boolean ready() {
        return ready;
    }

    private ManagedChannel buildChannel(String a, boolean sds) {
        NettyChannelBuilder b;
        if (a.startsWith("unix://")) {
            if (!Epoll.isAvailable()) {
                throw new IllegalStateException("unix domain socket " + a + " needs native epoll: "
                        + Epoll.unavailabilityCause());
            }
            MultiThreadIoEventLoopGroup g = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
            if (sds) {
                sdsUdsGroup = g;
            } else {
                udsGroup = g;
            }
            b = NettyChannelBuilder.forAddress(new DomainSocketAddress(a.substring("unix://".length())))
                    .channelType(EpollDomainSocketChannel.class).eventLoopGroup(g);
        } else {
            b = NettyChannelBuilder.forTarget(a);
        }
        if (boot.tls() && !sds) { // istio-agent's SDS socket is local and plaintext
            b.useTransportSecurity();
        } else {
            b.usePlaintext();
        }
        return b.maxInboundMessageSize(boot.maxMessageBytes()).keepAliveTime(30, TimeUnit.SECONDS)
                .userAgent("remora/" + XdsBootstrap.PROXY_VERSION).build();
    }

    // ---------------------------------------------------------------- stream

    private void connect() {
        if (state == State.STOPPED) {
            return;
        }
        state = State.CONNECTING;
        long id = ++streamId;
        streamAnswered = false;
        held.clear();
        for (TypeState ts : types.values()) {
            if (!separate(ts)) {
                ts.nonce = "";
                ts.cancelDelayedNack();
            }
        }
        XdsWire.Sink sink = new XdsWire.Sink() {
            @Override
            public void onUpdate(XdsUpdate u) {
                post(() -> onResponse(id, u, false));
            }

            @Override
            public void onEnd(Throwable t) {
                post(() -> onStreamEnd(id, t));
            }
        };
        wire = speaksDelta() ? new DeltaWire(channel, node, log, sink) : new SotwWire(channel, node, log, sink);
        for (TypeState ts : types.values()) {
            if ((ts.wildcard() || !ts.names.isEmpty()) && !separate(ts)) {
                wire.open(ts);
            }
        }
    }

    /** True for the secrets when they come from their own SDS server. */
    private boolean separate(TypeState ts) {
        return sdsChannel != null && ts.typeUrl.equals(XdsResources.SECRET);
    }

    /** The stream a type's requests go on (null while it is down). */
    private XdsWire wireFor(TypeState ts) {
        return separate(ts) ? sdsWire : wire;
    }

    private void connectSds() {
        if (state == State.STOPPED) {
            return;
        }
        long id = ++sdsStreamId;
        TypeState ts = types.get(XdsResources.SECRET);
        ts.nonce = "";
        ts.cancelDelayedNack();
        sdsWire = new SotwWire(sdsChannel, node, log, new XdsWire.Sink() {
            @Override
            public void onUpdate(XdsUpdate u) {
                post(() -> onResponse(id, u, true));
            }

            @Override
            public void onEnd(Throwable t) {
                post(() -> onSdsEnd(id, t));
            }
        }, true);
        if (!ts.names.isEmpty()) {
            sdsWire.open(ts);
        }
    }

    private void onSdsEnd(long id, Throwable t) {
        if (id != sdsStreamId || state == State.STOPPED) {
            return;
        }
        sdsWire = null;
        disconnects.incrementAndGet();
        long delay = sdsBackoff.nextDelayMillis();
        String why = t == null ? "closed by the server" : io.grpc.Status.fromThrowable(t).toString();
        lastError = "sds stream: " + why;
        log.warn("xds: SDS stream to {} lost ({}); secrets held stay in use; reconnect in {} ms", boot.sdsAddress(),
                why, delay);
        exec.schedule(this::connectSds, delay, TimeUnit.MILLISECONDS);
    }

    private boolean speaksDelta() {
        return boot.api() == XdsBootstrap.Api.DELTA || (boot.api() == XdsBootstrap.Api.AUTO && !deltaUnimplemented);
    }

    /** Hands work to the client thread; after stop() there is none to do. */
    private void post(Runnable r) {
        try {
            exec.execute(r);
        } catch (RejectedExecutionException e) {
            // stopped
        }
    }

    private void onStreamEnd(long id, Throwable t) {
        if (id != streamId || state == State.STOPPED) {
            return;
        }
        boolean wasDelta = wire instanceof DeltaWire;
        wire = null;
        io.grpc.Status status = t == null ? null : io.grpc.Status.fromThrowable(t);
        if (wasDelta && boot.api() == XdsBootstrap.Api.AUTO && !streamAnswered && status != null
                && status.getCode() == io.grpc.Status.Code.UNIMPLEMENTED) {
            deltaUnimplemented = true;
            for (TypeState ts : types.values()) {
                ts.version = ""; // a delta system_version_info means nothing to a SotW server
            }
            log.warn("xds: {} does not implement delta ADS ({}); api auto falls back to state of the world",
                    boot.address(), status.getDescription());
            exec.execute(this::connect);
            return;
        }
        disconnects.incrementAndGet();
        String why = t == null ? "closed by the control plane" : status.toString();
        lastError = "stream: " + why;
        long delay = backoff.nextDelayMillis();
        lastBackoffMillis = delay;
        state = State.BACKOFF;
        reconnects.incrementAndGet();
        log.warn("xds: stream to {} lost ({}); keeping the running config; reconnect #{} in {} ms", boot.address(),
                why, backoff.attempt(), delay);
        exec.schedule(this::connect, delay, TimeUnit.MILLISECONDS);
    }

    // ---------------------------------------------------------------- responses

    private void onResponse(long id, XdsUpdate u, boolean sds) {
        if (id != (sds ? sdsStreamId : streamId) || state == State.STOPPED) {
            return;
        }
        if (sds) {
            sdsBackoff.reset();
            if (!u.typeUrl().equals(XdsResources.SECRET)) {
                log.warn("xds: ignoring a {} response on the SDS stream", u.typeUrl());
                return;
            }
        } else {
            streamAnswered = true;
        }
        if (!sds && state != State.CONNECTED) {
            state = State.CONNECTED;
            backoff.reset();
            log.info("xds: {} stream to {} established", wire.dialect(), boot.address());
        }
        updates.incrementAndGet();
        TypeState ts = types.get(u.typeUrl());
        if (ts == null) {
            log.warn("xds: ignoring response of unsubscribed type {}", u.typeUrl());
            return;
        }
        if (frozen) {
            List<XdsUpdate> q = held.computeIfAbsent(u.typeUrl(), k -> new ArrayList<>());
            if (u.stateOfTheWorld()) {
                q.clear(); // the latest SotW response supersedes; delta responses only make sense in sequence
            }
            q.add(u);
            log.info("xds: frozen; holding {} version {} (not applied, not ACKed)", XdsResources.shortName(
                    u.typeUrl()), u.version());
            return;
        }
        process(ts, u);
    }

    private void process(TypeState ts, XdsUpdate u) {
        long t0 = System.nanoTime();
        ts.cancelDelayedNack();
        ts.nonce = u.nonce();
        String type = XdsResources.shortName(ts.typeUrl);
        // SotW LDS/CDS carry the whole set; SotW EDS/RDS and every delta response change only what they name.
        boolean replaceAll = u.stateOfTheWorld() && ts.wildcard();
        Map<String, Message> raw = replaceAll ? new HashMap<>() : new HashMap<>(ts.raw);
        Map<String, Object> translated = replaceAll ? new HashMap<>() : new HashMap<>(ts.translated);
        Map<String, String> versions = new HashMap<>();
        int removedCount = 0;
        try {
            for (XdsUpdate.Entry e : u.resources()) {
                if (e.resource() != null && e.resource().getTypeUrl().equals(XdsResources.RESOURCE_WRAPPER)) {
                    e = XdsUpdate.entry(e.resource().unpack(Resource.class)); // SotW with resource-in-sotw
                }
                if (e.resource() == null) {
                    continue; // a TTL heartbeat: the resource stays as it is
                }
                String what = e.name() == null ? "" : " \"" + e.name() + "\"";
                if (!e.resource().getTypeUrl().equals(ts.typeUrl)) {
                    throw new ConfigException(type, "resource" + what + " of type " + e.resource().getTypeUrl()
                            + " in a " + ts.typeUrl + " response");
                }
                Message m = unpack(ts.typeUrl, e.resource());
                String name = nameOf(m);
                if (e.name() != null && !e.name().isEmpty() && !e.name().equals(name)) {
                    throw new ConfigException(type + " resource \"" + e.name() + "\"", "wraps a resource named \""
                            + name + "\" (Resource.name and the resource's own name must match)");
                }
                String key = storeKey(ts, name, e.aliases());
                if (key == null) {
                    continue; // not subscribed (a server may send more than asked)
                }
                if (versions.put(key, e.version() == null || e.version().isEmpty() ? u.version() : e.version())
                        != null) {
                    throw new ConfigException(type, "duplicate resource name \"" + key + "\"");
                }
                raw.put(key, m);
                translated.put(key, translate(m));
            }
            for (String name : u.removed()) {
                if (versions.containsKey(name)) {
                    throw new ConfigException(type + " resource \"" + name + "\"", "is both updated and removed in "
                            + "one response");
                }
                boolean had = raw.remove(name) != null;
                if (ts.typeUrl.equals(XdsResources.ENDPOINT) && ts.names.contains(name)) {
                    // Like Envoy: a removed load assignment leaves its cluster with no endpoints, not warming again.
                    had |= translated.put(name, new XEndpoints(name, List.of())) != null;
                } else {
                    had |= translated.remove(name) != null;
                }
                removedCount += had ? 1 : 0;
            }
        } catch (ConfigException e) {
            nack(ts, u, e.getMessage());
            return;
        } catch (InvalidProtocolBufferException e) {
            nack(ts, u, type + ": cannot decode resource: " + e.getMessage());
            return;
        }
        Map<String, Message> oldRaw = ts.raw;
        Map<String, Object> oldTr = ts.translated;
        boolean oldReceived = ts.received;
        ts.raw = raw;
        ts.translated = translated;
        ts.received = true;
        try {
            assembleAndApply();
        } catch (ConfigException e) {
            ts.raw = oldRaw;
            ts.translated = oldTr;
            ts.received = oldReceived;
            nack(ts, u, e.getMessage());
            return;
        }
        Instant now = Instant.now();
        Map<String, TypeState.ResourceInfo> info = new HashMap<>();
        for (Map.Entry<String, Message> e : raw.entrySet()) {
            TypeState.ResourceInfo old = ts.info.get(e.getKey());
            String v = versions.get(e.getKey());
            boolean same = old != null && e.getValue().equals(oldRaw.get(e.getKey()));
            if (v == null && old != null) {
                info.put(e.getKey(), old); // not in this response
            } else if (same) {
                // unchanged: keep when it came; delta still learns the server's current version of it
                info.put(e.getKey(), u.stateOfTheWorld() || Objects.equals(v, old.version()) ? old
                        : new TypeState.ResourceInfo(v, old.acceptedAt()));
            } else {
                info.put(e.getKey(), new TypeState.ResourceInfo(v == null ? u.version() : v, now));
            }
        }
        ts.info = info;
        ts.version = u.version();
        ts.lastNack = null;
        ts.lastNackKey = null;
        ts.nackRepeats = 0;
        ts.acks++;
        acks.incrementAndGet();
        lastProcessMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        ts.lastProcessMs = lastProcessMillis;
        log.info("xds: ACK {} version {} ({} resource(s){}, processed in {} ms)", type, u.version(),
                u.stateOfTheWorld() ? raw.size() : versions.size(),
                u.stateOfTheWorld() ? "" : " changed, " + removedCount + " removed, " + raw.size() + " held",
                lastProcessMillis);
        if (wireFor(ts) != null) {
            wireFor(ts).ack(ts);
        }
        if (ts.typeUrl.equals(XdsResources.CLUSTER)) {
            subscribe(types.get(XdsResources.ENDPOINT), names(ts, x -> ((XCluster) x).edsName()));
            subscribe(types.get(XdsResources.SECRET), secretNames());
        } else if (ts.typeUrl.equals(XdsResources.LISTENER)) {
            subscribe(types.get(XdsResources.ROUTE), allNames(ts, x -> ((XListener) x).rdsNames()));
            subscribe(types.get(XdsResources.SECRET), secretNames());
        }
        ts.stale.removeAll(versions.keySet());
        ts.stale.removeAll(u.removed());
        if (!ts.wildcard()) {
            ts.stale.retainAll(ts.names); // unsubscribed names need no resync
        }
        if (!u.stateOfTheWorld() && !ts.stale.isEmpty()) {
            resync(ts);
        }
    }

    /**
     * A delta server counts a NACKed response as delivered, so the good resources it carried (and its removals) never
     * come again until they change. Once the control plane sends something we accept, a fresh stream's
     * initial_resource_versions tells it exactly what we hold, and it resends the difference (any server must honour
     * that; re-subscribing is not resent by all of them).
     */
    private void resync(TypeState ts) {
        log.info("xds: {} resource(s) of a NACKed {} response were not resent ({}); reopening the delta stream to "
                + "resync", ts.stale.size(), XdsResources.shortName(ts.typeUrl), new TreeSet<>(ts.stale));
        for (TypeState t : types.values()) {
            t.stale.clear();
        }
        resyncs.incrementAndGet();
        XdsWire old = wire;
        streamId++; // the old stream's end is not a disconnect
        if (old != null) {
            old.close();
        }
        exec.execute(this::connect);
    }

    /** The name a resource is kept under: its own, or for EDS/RDS the subscribed alias it answers; null: not wanted. */
    private static String storeKey(TypeState ts, String name, List<String> aliases) {
        if (ts.wildcard() || ts.names.contains(name)) {
            return name;
        }
        for (String a : aliases) {
            if (ts.names.contains(a)) {
                return a;
            }
        }
        return null;
    }

    private static Set<String> names(TypeState ts, Function<Object, String> f) {
        TreeSet<String> out = new TreeSet<>();
        for (Object o : ts.translated.values()) {
            String n = f.apply(o);
            if (n != null) {
                out.add(n);
            }
        }
        return java.util.Collections.unmodifiableSet(out);
    }

    private static Set<String> allNames(TypeState ts, Function<Object, Set<String>> f) {
        TreeSet<String> out = new TreeSet<>();
        for (Object o : ts.translated.values()) {
            out.addAll(f.apply(o));
        }
        return java.util.Collections.unmodifiableSet(out);
    }

    /** Every secret a cluster's or a listener's TLS names: what SDS is asked for. */
    private Set<String> secretNames() {
        TreeSet<String> out = new TreeSet<>(allNames(types.get(XdsResources.CLUSTER), x -> ((XCluster) x).secrets()));
        out.addAll(allNames(types.get(XdsResources.LISTENER), x -> ((XListener) x).secrets()));
        return java.util.Collections.unmodifiableSet(out);
    }

    private void subscribe(TypeState ts, Set<String> names) {
        if (names.equals(ts.names)) {
            return;
        }
        Set<String> added = new TreeSet<>(names);
        added.removeAll(ts.names);
        Set<String> removed = new TreeSet<>(ts.names);
        removed.removeAll(names);
        ts.names = names;
        ts.raw.keySet().retainAll(names);
        ts.translated.keySet().retainAll(names);
        ts.info.keySet().retainAll(names);
        log.info("xds: subscribing {} to {} name(s) (+{} -{})", XdsResources.shortName(ts.typeUrl), names.size(),
                added.size(), removed.size());
        if (wireFor(ts) != null) {
            wireFor(ts).resubscribe(ts, added, removed);
        }
    }

    private void nack(TypeState ts, XdsUpdate u, String error) {
        String type = XdsResources.shortName(ts.typeUrl);
        lastError = type + " version " + u.version() + ": " + error;
        ts.lastNack = error;
        String key = u.contentKey();
        if (key.equals(ts.lastNackKey)) {
            // The same bad config again (SotW control planes resend on NACK): answer, but not in a tight loop.
            long delay = Math.min(NACK_REPEAT_MAX_MS, NACK_REPEAT_BASE_MS << Math.min(ts.nackRepeats++, 5));
            log.warn("xds: NACK {} version {} again in {} ms: {}", type, u.version(), delay, error);
            ts.delayedNack = exec.schedule(() -> {
                ts.delayedNack = null;
                countNack(ts);
                if (wireFor(ts) != null) {
                    wireFor(ts).nack(ts, error);
                }
            }, delay, TimeUnit.MILLISECONDS);
            return;
        }
        if (!u.stateOfTheWorld()) {
            for (XdsUpdate.Entry e : u.resources()) {
                TypeState.ResourceInfo held = e.name() == null ? null : ts.info.get(e.name());
                if (e.name() != null && (held == null || !held.version().equals(e.version()))) {
                    ts.stale.add(e.name());
                }
            }
            for (String name : u.removed()) {
                if (ts.raw.containsKey(name)) {
                    ts.stale.add(name);
                }
            }
        }
        ts.lastNackKey = key;
        ts.nackRepeats = 0;
        log.warn("xds: NACK {} version {} (keeping version \"{}\"): {}", type, u.version(), ts.version, error);
        countNack(ts);
        if (wireFor(ts) != null) {
            wireFor(ts).nack(ts, error);
        }
    }

    private void countNack(TypeState ts) {
        ts.nacks++;
        nacks.incrementAndGet();
    }

    private static Message unpack(String typeUrl, Any any) throws InvalidProtocolBufferException {
        return switch (typeUrl) {
            case XdsResources.LISTENER -> any.unpack(Listener.class);
            case XdsResources.ROUTE -> any.unpack(RouteConfiguration.class);
            case XdsResources.CLUSTER -> any.unpack(Cluster.class);
            case XdsResources.ENDPOINT -> any.unpack(ClusterLoadAssignment.class);
            case XdsResources.SECRET -> any.unpack(
                    io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret.class);
            default -> throw new IllegalArgumentException(typeUrl);
        };
    }

    private static String nameOf(Message m) {
        if (m instanceof Listener l) {
            return l.getName();
        } else if (m instanceof RouteConfiguration rc) {
            return rc.getName();
        } else if (m instanceof Cluster c) {
            return c.getName();
        } else if (m instanceof io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret sec) {
            return sec.getName();
        }
        return ((ClusterLoadAssignment) m).getClusterName();
    }

    private Object translate(Message m) throws ConfigException {
        if (m instanceof Listener l) {
            return translator.listener(l);
        } else if (m instanceof RouteConfiguration rc) {
            return translator.route(rc);
        } else if (m instanceof Cluster c) {
            return translator.cluster(c);
        } else if (m instanceof io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret sec) {
            return TlsTranslator.secret(sec);
        }
        return translator.endpoints((ClusterLoadAssignment) m);
    }

    // ---------------------------------------------------------------- assembly and warming

    @SuppressWarnings("unchecked")
    private <T> Map<String, T> translated(String typeUrl) {
        return (Map<String, T>) (Map<String, ?>) types.get(typeUrl).translated;
    }

    private void assembleAndApply() throws ConfigException {
        long now = System.nanoTime();
        long warmNanos = TimeUnit.MILLISECONDS.toNanos(boot.warmingTimeoutMs());
        Map<String, XCluster> clusters = translated(XdsResources.CLUSTER);
        Map<String, XEndpoints> endpoints = translated(XdsResources.ENDPOINT);
        Map<String, XListener> listeners = translated(XdsResources.LISTENER);
        Map<String, XRoute> routes = translated(XdsResources.ROUTE);
        Map<String, XdsResources.XSecret> secrets = translated(XdsResources.SECRET);
        // Material first: a listener or cluster applied below may use it on its first connection. A rotation is one
        // put: new connections get the new SslContext, established ones keep theirs.
        for (XdsResources.XSecret sec : secrets.values()) {
            secretStore.put(sec.name(), sec.secret());
        }
        for (String gone : new ArrayList<>(secretsPut)) {
            if (!secrets.containsKey(gone)) {
                secretStore.remove(gone);
                secretsPut.remove(gone);
            }
        }
        secretsPut.addAll(secrets.keySet());
        ConfigAssembler.Result res = ConfigAssembler.assemble(base, clusters, endpoints, listeners, routes,
                secrets.keySet(), lastApplied, key -> {
                    Long since = waitingSince.get(key);
                    return since != null && now - since >= warmNanos;
                });
        waitingSince.keySet().retainAll(res.waiting());
        boolean stillWarming = false;
        long nextDeadline = Long.MAX_VALUE;
        for (String key : res.waiting()) {
            long since = waitingSince.computeIfAbsent(key, k -> now);
            if (now - since < warmNanos) {
                stillWarming = true;
                nextDeadline = Math.min(nextDeadline, since + warmNanos);
            } else if (warned.add("expired:" + key + "@" + since)) {
                log.warn("xds: {} still missing after {} ms warming; {}", key, boot.warmingTimeoutMs(),
                        key.startsWith("eds:") ? "cluster serves with no endpoints" : "listener not serving");
            }
        }
        if (warmingTimer != null) {
            warmingTimer.cancel(false);
            warmingTimer = null;
        }
        if (stillWarming) {
            warmingTimer = exec.schedule(this::warmingTimeout, Math.max(1, nextDeadline - now), TimeUnit.NANOSECONDS);
        }
        if (!res.config().equals(lastApplied)) {
            long t0 = System.nanoTime();
            try {
                config.apply(res.config(), "xds");
            } catch (ConfigException e) {
                throw locate(e, res.config());
            }
            lastApplyMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            lastApplied = res.config();
            lastAppliedAt = Instant.now();
            applies.incrementAndGet();
            log.info("xds: config applied in {} ms: {} listener(s), {} cluster(s){}", lastApplyMillis,
                    res.config().listeners().size(), res.config().clusters().size(),
                    stillWarming ? "; warming: " + res.waiting() : "");
        }
        if (!ready && !stillWarming && types.get(XdsResources.CLUSTER).received
                && types.get(XdsResources.LISTENER).received) {
            ready = true;
            log.info("xds: first full config applied; ready");
        }
    }

    private static final Pattern INDEXED = Pattern.compile("^(listeners|clusters|route_configs)\\[(\\d+)]");

    /** The core names a field by index in the assembled config; the control plane knows the resource by name. */
    static ConfigException locate(ConfigException e, SidecarConfig cfg) {
        Matcher m = INDEXED.matcher(e.path());
        if (!m.find()) {
            return e;
        }
        int i = Integer.parseInt(m.group(2));
        List<?> list = switch (m.group(1)) {
            case "listeners" -> cfg.listeners();
            case "clusters" -> cfg.clusters();
            default -> cfg.routeConfigs();
        };
        if (list == null || i >= list.size()) {
            return e;
        }
        Object o = list.get(i);
        String name = o instanceof SidecarConfig.Listener l ? "listener \"" + l.name() + "\""
                : o instanceof SidecarConfig.Cluster c ? "cluster \"" + c.name() + "\""
                : "route_configuration \"" + ((SidecarConfig.RouteConfig) o).name() + "\"";
        ConfigException out = new ConfigException(name + " (" + e.path() + ")", e.problem());
        out.setStackTrace(e.getStackTrace());
        return out;
    }

    private void warmingTimeout() {
        warmingTimer = null;
        try {
            assembleAndApply();
        } catch (ConfigException e) {
            applyFailures.incrementAndGet();
            lastError = "apply after warming timeout: " + e.getMessage();
            log.error("xds: {}", lastError);
        }
    }

    private void initialFetchTimeout() {
        if (!ready) {
            initialFetchTimedOut = true;
            ready = true;
            lastError = "initial fetch timed out after " + boot.initialFetchTimeoutMs() + " ms";
            log.warn("xds: {}; reporting ready with what arrived so far", lastError);
        }
    }

    // ---------------------------------------------------------------- freeze / admin

    void freeze() {
        exec.execute(() -> {
            if (!frozen) {
                frozen = true;
                log.warn("xds: frozen by admin: updates are held, not applied and not ACKed");
            }
        });
    }

    void resume() {
        exec.execute(() -> {
            if (!frozen) {
                return;
            }
            frozen = false;
            log.warn("xds: resumed by admin; {} type(s) with held responses to process", held.size());
            Map<String, List<XdsUpdate>> h = new LinkedHashMap<>(held);
            held.clear();
            for (String t : XdsResources.ORDER) {
                for (XdsUpdate u : h.getOrDefault(t, List.of())) {
                    process(types.get(t), u);
                }
            }
        });
    }

    /** Runs {@code f} on the client thread (state is confined to it). */
    <T> T onClientThread(java.util.concurrent.Callable<T> f) throws Exception {
        return exec.submit(f).get(5, TimeUnit.SECONDS);
    }

    ObjectNode status() {
        JsonNodeFactory f = JsonNodeFactory.instance;
        ObjectNode o = f.objectNode();
        o.put("server", boot.address());
        o.put("node_id", boot.nodeId());
        o.put("api", boot.api().name().toLowerCase());
        o.put("wire", wire == null ? null : wire.dialect());
        if (boot.sdsAddress() != null) {
            o.put("sds_server", boot.sdsAddress());
            o.put("sds_stream", sdsWire == null ? "down" : "up");
        }
        o.put("state", state.name().toLowerCase());
        o.put("frozen", frozen);
        o.put("ready", ready);
        o.put("initial_fetch_timed_out", initialFetchTimedOut);
        ObjectNode c = o.putObject("counters");
        c.put("updates", updates.get());
        c.put("acks", acks.get());
        c.put("nacks", nacks.get());
        c.put("reconnects", reconnects.get());
        c.put("disconnects", disconnects.get());
        c.put("applies", applies.get());
        c.put("apply_failures", applyFailures.get());
        c.put("resyncs", resyncs.get());
        o.put("backoff_attempt", backoff.attempt());
        o.put("last_backoff_ms", lastBackoffMillis);
        o.put("last_error", lastError);
        o.put("last_apply_ms", lastApplyMillis);
        o.put("last_process_ms", lastProcessMillis);
        o.put("last_applied_at", lastAppliedAt == null ? null : lastAppliedAt.toString());
        ArrayNode w = o.putArray("warming");
        new TreeSet<>(waitingSince.keySet()).forEach(w::add);
        ArrayNode heldTypes = o.putArray("held");
        held.keySet().forEach(t -> heldTypes.add(XdsResources.shortName(t)));
        ObjectNode ty = o.putObject("types");
        for (TypeState ts : types.values()) {
            ObjectNode t = ty.putObject(XdsResources.shortName(ts.typeUrl));
            t.put("type_url", ts.typeUrl);
            t.put("version", ts.version);
            t.put("nonce", ts.nonce);
            t.put("acks", ts.acks);
            t.put("nacks", ts.nacks);
            t.put("last_nack", ts.lastNack);
            t.put("last_process_ms", ts.lastProcessMs);
            ArrayNode sub = t.putArray("subscribed");
            ts.names.forEach(sub::add);
            ObjectNode res = t.putObject("resources");
            new TreeMap<>(ts.info).forEach((name, i) -> {
                ObjectNode r = res.putObject(name);
                r.put("version", i.version());
                r.put("applied_at", i.acceptedAt().toString());
            });
            t.put("digest", Digests.sha256(ts.raw));
        }
        return o;
    }

    ObjectNode digests() {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("algorithm", "sha256(name, 0x00, u32 length, deterministic proto bytes) over resources sorted by name");
        for (TypeState ts : types.values()) {
            ObjectNode t = o.putObject(XdsResources.shortName(ts.typeUrl));
            t.put("type_url", ts.typeUrl);
            t.put("version", ts.version);
            t.put("resources", ts.raw.size());
            t.put("digest", Digests.sha256(ts.raw));
        }
        return o;
    }

    List<String> warnings() {
        return new ArrayList<>(warned);
    }
}
