package io.remora.core.health;

import com.fasterxml.jackson.databind.JsonNode;
import io.netty.channel.EventLoopGroup;
import io.remora.core.SidecarContext;
import io.remora.core.config.ConfigCompiler;
import io.remora.core.config.ConfigException;
import io.remora.core.config.ConfigSnapshot;
import io.remora.core.config.ListenerSpec;
import io.remora.core.protocol.RpcCodec;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;

/**
 * Server side: probes the local app behind an inbound listener (e.g. 12199 behind 12200) with the listener's protocol
 * heartbeat. When the app stops answering the sidecar reports not ready and closes that listener's socket, so callers
 * fail over instead of timing out; when it answers again the listener reopens on the same address.
 *
 * <p>Config {@code extensions.app_heartbeat}: {@code {"checks":[{"listener":"ingress_bolt","address":"127.0.0.1:12199",
 * "interval_ms":1000,"timeout_ms":1000,"unhealthy_threshold":3,"healthy_threshold":1}]}}.
 */
final class AppHeartbeat {

    static final String KEY = "app_heartbeat";

    private final SidecarContext context;
    private final Supplier<EventLoopGroup> group;
    private final Logger log;
    private final Map<String, Check> checks = new HashMap<>();

    AppHeartbeat(SidecarContext context, Supplier<EventLoopGroup> group) {
        this.context = context;
        this.group = group;
        this.log = context.logs().fileLogger("health_check.log", "INFO");
    }

    private record Spec(String listener, InetSocketAddress address, long intervalMillis, long timeoutMillis,
                        int unhealthy, int healthy) {
    }

    synchronized void onSnapshot(ConfigSnapshot snap) {
        Map<String, JsonNode> ext = snap.source().extensions();
        JsonNode cfg = ext == null ? null : ext.get(KEY);
        Map<String, Spec> wanted = new HashMap<>();
        if (cfg != null && cfg.has("checks")) {
            JsonNode list = cfg.get("checks");
            for (int i = 0; i < list.size(); i++) {
                try {
                    Spec s = parse(list.get(i), "extensions.app_heartbeat.checks[" + i + "]");
                    wanted.put(s.listener(), s);
                } catch (ConfigException e) {
                    log.error("app heartbeat ignored: {}", e.getMessage());
                }
            }
        }
        checks.entrySet().removeIf(e -> {
            Spec s = wanted.get(e.getKey());
            if (s == null || !s.equals(e.getValue().spec)) {
                e.getValue().stop();
                return true;
            }
            return false;
        });
        for (Spec s : wanted.values()) {
            if (checks.containsKey(s.listener())) {
                continue;
            }
            ListenerSpec ls = snap.listeners().get(s.listener());
            if (ls == null) {
                log.error("app heartbeat: no listener \"{}\"", s.listener());
                continue;
            }
            Check c = new Check(s, ls.codecs().get(0));
            checks.put(s.listener(), c);
            context.addReadinessCheck("app_heartbeat:" + s.listener(), () -> c.stopped || c.thresholds.up());
            c.schedule(0);
        }
    }

    private static Spec parse(JsonNode n, String p) throws ConfigException {
        String listener = n.path("listener").asText(null);
        if (listener == null) {
            throw new ConfigException(p + ".listener", "is required");
        }
        InetSocketAddress a = ConfigCompiler.parseAddress(n.path("address").asText(null), p + ".address");
        return new Spec(listener, a, n.path("interval_ms").asLong(1000), n.path("timeout_ms").asLong(1000),
                n.path("unhealthy_threshold").asInt(3), n.path("healthy_threshold").asInt(1));
    }

    synchronized void stop() {
        checks.values().forEach(Check::stop);
        checks.clear();
    }

    private final class Check {
        final Spec spec;
        final RpcCodec codec;
        final Thresholds thresholds;
        volatile boolean stopped;

        Check(Spec spec, RpcCodec codec) {
            this.spec = spec;
            this.codec = codec;
            this.thresholds = new Thresholds(spec.healthy(), spec.unhealthy());
        }

        void schedule(long delayMillis) {
            if (!stopped) {
                group.get().next().schedule(this::probe, delayMillis, TimeUnit.MILLISECONDS);
            }
        }

        void probe() {
            if (stopped) {
                return;
            }
            Probe.run(group.get(), spec.address(), codec, spec.timeoutMillis(), ok -> {
                if (stopped) {
                    return;
                }
                if (thresholds.record(ok)) {
                    boolean up = thresholds.up();
                    // Listener sockets are bound off the health loop: a bind waits.
                    Thread t = new Thread(() -> switchListener(up), "remora-app-heartbeat");
                    t.setDaemon(true);
                    t.start();
                } else {
                    schedule(spec.intervalMillis());
                }
            });
        }

        private void switchListener(boolean up) {
            try {
                if (up) {
                    log.info("local app {} answers heartbeats again: reopening listener {}", spec.address(),
                            spec.listener());
                } else {
                    log.warn("local app {} stopped answering heartbeats ({} in a row): not ready, closing listener {}",
                            spec.address(), spec.unhealthy(), spec.listener());
                }
                if (!stopped && !context.setListenerAccepting(spec.listener(), up)) {
                    log.error("listener {} could not be {}", spec.listener(), up ? "reopened" : "closed");
                }
            } finally {
                schedule(spec.intervalMillis());
            }
        }

        void stop() {
            stopped = true;
            if (!thresholds.up()) {
                context.setListenerAccepting(spec.listener(), true);
            }
        }
    }
}
