package io.remora.testkit.sofa;

import com.alipay.sofa.rpc.config.ApplicationConfig;
import com.alipay.sofa.rpc.config.ConsumerConfig;
import com.alipay.sofa.rpc.config.ProviderConfig;
import com.alipay.sofa.rpc.config.ServerConfig;
import io.remora.testing.TestSidecar;
import java.util.ArrayList;
import java.util.List;

/**
 * Real SOFARPC peers on 127.0.0.1 with registries off: a bolt provider on a free port and consumers with a direct
 * {@code bolt://127.0.0.1:port} URL (e.g. the sidecar's listener). Close to unexport/unrefer everything.
 */
public final class SofaRpcPeers implements AutoCloseable {

    private final List<ProviderConfig<?>> providers = new ArrayList<>();
    private final List<ServerConfig> servers = new ArrayList<>();
    private final List<ConsumerConfig<?>> consumers = new ArrayList<>();

    /** Exports {@code ref} as {@code iface} (version 1.0, optional uniqueId) on a new bolt server; returns its port. */
    public synchronized <T> int provide(Class<T> iface, T ref, String uniqueId) {
        int port = TestSidecar.freePort();
        ServerConfig server = new ServerConfig().setProtocol("bolt").setHost("127.0.0.1").setBoundHost("127.0.0.1")
                .setPort(port).setDaemon(true);
        ProviderConfig<T> p = new ProviderConfig<T>()
                .setApplication(new ApplicationConfig().setAppName("hello-server"))
                .setInterfaceId(iface.getName())
                .setRef(ref)
                .setServer(server)
                .setRegister(false);
        if (uniqueId != null) {
            p.setUniqueId(uniqueId);
        }
        p.export();
        providers.add(p);
        servers.add(server);
        return port;
    }

    /** A proxy calling {@code bolt://127.0.0.1:port} directly. {@code invokeType}: sync (default) or oneway. */
    public <T> T consumer(Class<T> iface, int port, int timeoutMillis, String uniqueId, String invokeType) {
        return consumer("hello-client", iface, port, timeoutMillis, uniqueId, invokeType);
    }

    /** As above, for caller app {@code app} (what access rules and label routing match on). */
    public synchronized <T> T consumer(String app, Class<T> iface, int port, int timeoutMillis, String uniqueId,
                                       String invokeType) {
        ConsumerConfig<T> c = new ConsumerConfig<T>()
                .setApplication(new ApplicationConfig().setAppName(app))
                .setInterfaceId(iface.getName())
                .setProtocol("bolt")
                .setDirectUrl("bolt://127.0.0.1:" + port)
                .setRegister(false)
                .setSubscribe(false)
                .setTimeout(timeoutMillis)
                .setRepeatedReferLimit(-1)
                .setInvokeType(invokeType == null ? "sync" : invokeType);
        if (uniqueId != null) {
            c.setUniqueId(uniqueId);
        }
        T proxy = c.refer();
        consumers.add(c);
        return proxy;
    }

    public <T> T consumer(Class<T> iface, int port, int timeoutMillis) {
        return consumer(iface, port, timeoutMillis, null, null);
    }

    /** Unrefers every consumer made so far (providers stay). */
    public synchronized void closeConsumers() {
        for (ConsumerConfig<?> c : consumers) {
            try {
                c.unRefer();
            } catch (RuntimeException ignored) {
                // best effort in teardown
            }
        }
        consumers.clear();
    }

    @Override
    public synchronized void close() {
        closeConsumers();
        for (ProviderConfig<?> p : providers) {
            try {
                p.unExport();
            } catch (RuntimeException ignored) {
                // best effort in teardown
            }
        }
        for (ServerConfig s : servers) {
            try {
                s.destroy();
            } catch (RuntimeException ignored) {
                // best effort in teardown
            }
        }
        consumers.clear();
        providers.clear();
        servers.clear();
    }
}
