package io.remora.xds;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.rpc.Code;
import com.google.rpc.Status;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.slf4j.Logger;

/**
 * A state-of-the-world ADS client. Everything it owns is touched only on its single thread ({@code remora-xds}); gRPC
 * callbacks hop onto it. Each accepted response is translated, assembled with everything else accepted so far and
 * applied as ONE config ({@link ConfigManager#apply}); a rejected one is NACKed and changes nothing.
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
    private final Map<String, DiscoveryResponse> held = new LinkedHashMap<>();
    private final Map<String, Long> waitingSince = new HashMap<>();

    final AtomicLong updates = new AtomicLong();
    final AtomicLong acks = new AtomicLong();
    final AtomicLong nacks = new AtomicLong();
    final AtomicLong reconnects = new AtomicLong();
    final AtomicLong disconnects = new AtomicLong();
    final AtomicLong applies = new AtomicLong();
    final AtomicLong applyFailures = new AtomicLong();

    private ManagedChannel channel;
    private MultiThreadIoEventLoopGroup udsGroup;
    private StreamObserver<DiscoveryRequest> requests;
    private long streamId;
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

    AdsClient(XdsBootstrap boot, SidecarConfig base, ConfigManager config, Logger log) {
        this.boot = boot;
        this.base = base;
        this.config = config;
        this.log = log;
        this.exec = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "remora-xds");
            t.setDaemon(true);
            return t;
        });
        this.backoff = new Backoff(500, 30_000, bound -> bound <= 0 ? 0 : ThreadLocalRandom.current().nextLong(bound));
        this.translator = new XdsTranslator(w -> {
            if (warned.add(w)) {
                log.warn("xds: {}", w);
            }
        });
        Struct.Builder md = Struct.newBuilder();
        boot.metadata().forEach((k, v) -> md.putFields(k, Value.newBuilder().setStringValue(v).build()));
        this.node = Node.newBuilder().setId(boot.nodeId()).setCluster(boot.nodeCluster()).setMetadata(md)
                .setUserAgentName("remora").setUserAgentVersion(XdsBootstrap.PROXY_VERSION).build();
        for (String t : XdsResources.ORDER) {
            types.put(t, new TypeState(t));
        }
    }

    void start() {
        channel = buildChannel();
        log.info("xds: node {} connecting to {} (initial fetch timeout {} ms)", boot.nodeId(), boot.address(),
                boot.initialFetchTimeoutMs());
        exec.execute(this::connect);
        exec.schedule(this::initialFetchTimeout, boot.initialFetchTimeoutMs(), TimeUnit.MILLISECONDS);
    }

    void stop() {
        try {
            exec.submit(() -> {
                state = State.STOPPED;
                if (requests != null) {
                    requests.onCompleted();
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
    }

    boolean ready() {
        return ready;
    }

    private ManagedChannel buildChannel() {
        NettyChannelBuilder b;
        String a = boot.address();
        if (a.startsWith("unix://")) {
            if (!Epoll.isAvailable()) {
                throw new IllegalStateException("unix domain socket " + a + " needs native epoll: "
                        + Epoll.unavailabilityCause());
            }
            udsGroup = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
            b = NettyChannelBuilder.forAddress(new DomainSocketAddress(a.substring("unix://".length())))
                    .channelType(EpollDomainSocketChannel.class).eventLoopGroup(udsGroup);
        } else {
            b = NettyChannelBuilder.forTarget(a);
        }
        if (boot.tls()) {
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
        held.clear();
        for (TypeState ts : types.values()) {
            ts.nonce = "";
            ts.cancelDelayedNack();
        }
        requests = AggregatedDiscoveryServiceGrpc.newStub(channel).streamAggregatedResources(
                new StreamObserver<>() {
                    @Override
                    public void onNext(DiscoveryResponse r) {
                        exec.execute(() -> onResponse(id, r));
                    }

                    @Override
                    public void onError(Throwable t) {
                        exec.execute(() -> onStreamEnd(id, t));
                    }

                    @Override
                    public void onCompleted() {
                        exec.execute(() -> onStreamEnd(id, null));
                    }
                });
        for (TypeState ts : types.values()) {
            if (ts.wildcard() || !ts.names.isEmpty()) {
                send(request(ts, null));
            }
        }
    }

    private void onStreamEnd(long id, Throwable t) {
        if (id != streamId || state == State.STOPPED) {
            return;
        }
        requests = null;
        disconnects.incrementAndGet();
        String why = t == null ? "closed by the control plane" : io.grpc.Status.fromThrowable(t).toString();
        lastError = "stream: " + why;
        long delay = backoff.nextDelayMillis();
        lastBackoffMillis = delay;
        state = State.BACKOFF;
        reconnects.incrementAndGet();
        log.warn("xds: stream to {} lost ({}); keeping the running config; reconnect #{} in {} ms", boot.address(),
                why, backoff.attempt(), delay);
        exec.schedule(this::connect, delay, TimeUnit.MILLISECONDS);
    }

    private void send(DiscoveryRequest r) {
        if (requests == null) {
            return;
        }
        try {
            requests.onNext(r);
        } catch (RuntimeException e) {
            log.warn("xds: send failed: {}", e.toString());
        }
    }

    private DiscoveryRequest request(TypeState ts, String error) {
        DiscoveryRequest.Builder b = DiscoveryRequest.newBuilder().setNode(node).setTypeUrl(ts.typeUrl)
                .setVersionInfo(ts.version).setResponseNonce(ts.nonce).addAllResourceNames(ts.names);
        if (error != null) {
            b.setErrorDetail(Status.newBuilder().setCode(Code.INVALID_ARGUMENT_VALUE).setMessage(error));
        }
        return b.build();
    }

    // ---------------------------------------------------------------- responses

    private void onResponse(long id, DiscoveryResponse r) {
        if (id != streamId || state == State.STOPPED) {
            return;
        }
        if (state != State.CONNECTED) {
            state = State.CONNECTED;
            backoff.reset();
            log.info("xds: stream to {} established", boot.address());
        }
        updates.incrementAndGet();
        TypeState ts = types.get(r.getTypeUrl());
        if (ts == null) {
            log.warn("xds: ignoring response of unsubscribed type {}", r.getTypeUrl());
            return;
        }
        if (frozen) {
            held.put(r.getTypeUrl(), r);
            log.info("xds: frozen; holding {} version {} (not applied, not ACKed)", XdsResources.shortName(
                    r.getTypeUrl()), r.getVersionInfo());
            return;
        }
        process(ts, r);
    }

    private void process(TypeState ts, DiscoveryResponse r) {
        long t0 = System.nanoTime();
        ts.cancelDelayedNack();
        ts.nonce = r.getNonce();
        String type = XdsResources.shortName(ts.typeUrl);
        Map<String, Message> raw = new HashMap<>();
        Map<String, Object> translated = new HashMap<>();
        try {
            for (Any any : r.getResourcesList()) {
                if (!any.getTypeUrl().equals(ts.typeUrl)) {
                    throw new ConfigException(type, "resource of type " + any.getTypeUrl() + " in a "
                            + ts.typeUrl + " response");
                }
                Message m = unpack(ts.typeUrl, any);
                String name = nameOf(m);
                if (!ts.wildcard() && !ts.names.contains(name)) {
                    continue;
                }
                if (raw.put(name, m) != null) {
                    throw new ConfigException(type, "duplicate resource name \"" + name + "\"");
                }
                translated.put(name, translate(m));
            }
        } catch (ConfigException e) {
            nack(ts, r, e.getMessage());
            return;
        } catch (InvalidProtocolBufferException e) {
            nack(ts, r, type + ": cannot decode resource: " + e.getMessage());
            return;
        }
        if (!ts.wildcard()) {
            // Per-name types: a response may carry a subset; names no longer subscribed were pruned already.
            Map<String, Message> mergedRaw = new HashMap<>(ts.raw);
            Map<String, Object> mergedTr = new HashMap<>(ts.translated);
            mergedRaw.putAll(raw);
            mergedTr.putAll(translated);
            raw = mergedRaw;
            translated = mergedTr;
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
            nack(ts, r, e.getMessage());
            return;
        }
        Instant now = Instant.now();
        Map<String, TypeState.ResourceInfo> info = new HashMap<>();
        for (Map.Entry<String, Message> e : raw.entrySet()) {
            TypeState.ResourceInfo old = ts.info.get(e.getKey());
            boolean same = old != null && e.getValue().equals(oldRaw.get(e.getKey()));
            info.put(e.getKey(), same ? old : new TypeState.ResourceInfo(r.getVersionInfo(), now));
        }
        ts.info = info;
        ts.version = r.getVersionInfo();
        ts.lastNack = null;
        ts.lastNackKey = null;
        ts.nackRepeats = 0;
        ts.acks++;
        acks.incrementAndGet();
        lastProcessMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        ts.lastProcessMs = lastProcessMillis;
        log.info("xds: ACK {} version {} ({} resource(s), processed in {} ms)", type, r.getVersionInfo(), raw.size(),
                lastProcessMillis);
        send(request(ts, null));
        if (ts.typeUrl.equals(XdsResources.CLUSTER)) {
            subscribe(types.get(XdsResources.ENDPOINT), names(ts, x -> ((XCluster) x).edsName()));
        } else if (ts.typeUrl.equals(XdsResources.LISTENER)) {
            subscribe(types.get(XdsResources.ROUTE), names(ts, x -> ((XListener) x).rds()));
        }
    }

    private static List<String> names(TypeState ts, Function<Object, String> f) {
        TreeSet<String> out = new TreeSet<>();
        for (Object o : ts.translated.values()) {
            String n = f.apply(o);
            if (n != null) {
                out.add(n);
            }
        }
        return List.copyOf(out);
    }

    private void subscribe(TypeState ts, List<String> names) {
        if (names.equals(ts.names)) {
            return;
        }
        ts.names = names;
        ts.raw.keySet().retainAll(names);
        ts.translated.keySet().retainAll(names);
        ts.info.keySet().retainAll(names);
        log.info("xds: subscribing {} to {} name(s)", XdsResources.shortName(ts.typeUrl), names.size());
        send(request(ts, null));
    }

    private void nack(TypeState ts, DiscoveryResponse r, String error) {
        String type = XdsResources.shortName(ts.typeUrl);
        lastError = type + " version " + r.getVersionInfo() + ": " + error;
        ts.lastNack = error;
        String key = r.getVersionInfo() + "|" + r.getResourcesList().hashCode();
        DiscoveryRequest nack = request(ts, error);
        if (key.equals(ts.lastNackKey)) {
            // The same bad config again (control planes resend on NACK): answer, but not in a tight loop.
            long delay = Math.min(NACK_REPEAT_MAX_MS, NACK_REPEAT_BASE_MS << Math.min(ts.nackRepeats++, 5));
            log.warn("xds: NACK {} version {} again in {} ms: {}", type, r.getVersionInfo(), delay, error);
            ts.delayedNack = exec.schedule(() -> {
                ts.delayedNack = null;
                countNack(ts);
                send(nack);
            }, delay, TimeUnit.MILLISECONDS);
            return;
        }
        ts.lastNackKey = key;
        ts.nackRepeats = 0;
        log.warn("xds: NACK {} version {} (keeping version \"{}\"): {}", type, r.getVersionInfo(), ts.version, error);
        countNack(ts);
        send(nack);
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
        ConfigAssembler.Result res = ConfigAssembler.assemble(base, clusters, endpoints, listeners, routes, lastApplied,
                key -> {
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
            config.apply(res.config(), "xds");
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
            log.warn("xds: resumed by admin; {} held response(s) to process", held.size());
            Map<String, DiscoveryResponse> h = new LinkedHashMap<>(held);
            held.clear();
            for (String t : XdsResources.ORDER) {
                DiscoveryResponse r = h.get(t);
                if (r != null) {
                    process(types.get(t), r);
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
