package io.remora.xds;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.remora.core.SidecarContext;
import io.remora.core.SidecarExtension;
import io.remora.core.admin.AdminHandler;
import io.remora.core.admin.AdminResponse;
import io.remora.core.config.ConfigException;
import io.remora.core.config.ConfigLoader;
import io.remora.core.config.ConfigSnapshot;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;

/**
 * Config from a control plane over ADS when the bootstrap has {@code extensions.xds} (or {@code REMORA_XDS_ADDRESS} is
 * set). The bootstrap is only known once the core applies it, so the client starts from the first published snapshot.
 * Admin: GET /api/v1/xds, POST /api/v1/xds/freeze, POST /api/v1/xds/resume, GET /api/v1/config_digest.
 */
public final class XdsExtension implements SidecarExtension {

    private final Map<String, String> env;
    private volatile boolean decided;
    private volatile boolean failed;
    private volatile AdsClient client;
    private SidecarContext context;
    private Logger log;

    public XdsExtension() {
        this(System.getenv());
    }

    XdsExtension(Map<String, String> env) {
        this.env = env;
    }

    @Override
    public String name() {
        return "xds";
    }

    @Override
    public void start(SidecarContext ctx) {
        this.context = ctx;
        this.log = ctx.logs().fileLogger("xds.log", "INFO");
        ctx.addReadinessCheck("xds", () -> decided && !failed && (client == null || client.ready()));
        ctx.config().subscribe(this::onSnapshot);
        ctx.admin().register("GET", "/api/v1/xds", withClient(c -> AdminResponse.json(
                ConfigLoader.mapper().writeValueAsString(c.onClientThread(c::status)))));
        ctx.admin().register("GET", "/api/v1/config_digest", withClient(c -> AdminResponse.json(
                ConfigLoader.mapper().writeValueAsString(c.onClientThread(c::digests)))));
        ctx.admin().register("POST", "/api/v1/xds/freeze", withClient(c -> {
            c.freeze();
            return AdminResponse.text("frozen: xDS updates are held (not applied, not ACKed)\n");
        }));
        ctx.admin().register("POST", "/api/v1/xds/resume", withClient(c -> {
            c.resume();
            return AdminResponse.text("resumed\n");
        }));
    }

    private interface ClientHandler {
        AdminResponse handle(AdsClient c) throws Exception;
    }

    private AdminHandler withClient(ClientHandler h) {
        return req -> {
            AdsClient c = client;
            return c == null ? AdminResponse.error(404, "xDS is not configured (no extensions.xds)") : h.handle(c);
        };
    }

    /** Runs on the applying thread; only the first snapshot (the bootstrap) matters. */
    private void onSnapshot(ConfigSnapshot snap) {
        if (decided) {
            return;
        }
        try {
            XdsBootstrap boot = XdsBootstrap.from(snap.source(), env);
            if (boot != null) {
                AdsClient c = new AdsClient(boot, snap.source(), context.config(), log,
                        context.secrets() != null ? context.secrets() : new io.remora.core.tls.SecretStore());
                registerMetrics(context.metrics(), c);
                c.start();
                client = c;
            }
        } catch (ConfigException | RuntimeException e) {
            failed = true;
            log.error("xds: cannot start the xDS client; the sidecar will not report ready: {}", e.getMessage(), e);
        } finally {
            decided = true;
        }
    }

    private static void registerMetrics(MeterRegistry m, AdsClient c) {
        counter(m, "remora.xds.updates", c.updates);
        counter(m, "remora.xds.acks", c.acks);
        counter(m, "remora.xds.nacks", c.nacks);
        counter(m, "remora.xds.reconnects", c.reconnects);
        counter(m, "remora.xds.disconnects", c.disconnects);
        counter(m, "remora.xds.applies", c.applies);
        io.micrometer.core.instrument.Gauge.builder("remora.xds.connected", c,
                        x -> x.connectionState() == AdsClient.State.CONNECTED ? 1 : 0)
                .description("1 while the ADS stream to the control plane is up").register(m);
    }

    private static void counter(MeterRegistry m, String name, AtomicLong v) {
        FunctionCounter.builder(name, v, AtomicLong::get).register(m);
    }

    @Override
    public void stop() {
        AdsClient c = client;
        if (c != null) {
            c.stop();
        }
    }
}
