package io.remora.filters.it;

import com.alipay.sofa.rpc.config.ApplicationConfig;
import com.alipay.sofa.rpc.config.ConsumerConfig;
import com.alipay.sofa.rpc.config.ProviderConfig;
import com.alipay.sofa.rpc.config.ServerConfig;
import io.remora.testing.TestSidecar;
import java.util.ArrayList;
import java.util.List;

/** Real SOFARPC peers on 127.0.0.1, registries off: one bolt provider, direct-URL consumers with an app name each. */
final class SofaPeers implements AutoCloseable {

    final HelloServiceImpl impl = new HelloServiceImpl();
    final int providerPort = TestSidecar.freePort();
    private final ServerConfig server;
    private final ProviderConfig<HelloService> provider;
    private final List<ConsumerConfig<?>> consumers = new ArrayList<>();

    SofaPeers() {
        server = new ServerConfig().setProtocol("bolt").setHost("127.0.0.1").setBoundHost("127.0.0.1")
                .setPort(providerPort).setDaemon(true);
        provider = new ProviderConfig<HelloService>()
                .setApplication(new ApplicationConfig().setAppName("hello-server"))
                .setInterfaceId(HelloService.class.getName())
                .setRef(impl)
                .setServer(server)
                .setRegister(false);
        provider.export();
    }

    /** A consumer of app {@code app} calling {@code 127.0.0.1:port} directly. */
    synchronized HelloService consumer(String app, int port) {
        ConsumerConfig<HelloService> c = new ConsumerConfig<HelloService>()
                .setApplication(new ApplicationConfig().setAppName(app))
                .setInterfaceId(HelloService.class.getName())
                .setProtocol("bolt")
                .setDirectUrl("bolt://127.0.0.1:" + port)
                .setRegister(false)
                .setSubscribe(false)
                .setTimeout(5000)
                .setRepeatedReferLimit(-1);
        HelloService proxy = c.refer();
        consumers.add(c);
        return proxy;
    }

    synchronized void closeConsumers() {
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
    public void close() {
        closeConsumers();
        try {
            provider.unExport();
        } catch (RuntimeException ignored) {
            // best effort in teardown
        }
        try {
            server.destroy();
        } catch (RuntimeException ignored) {
            // best effort in teardown
        }
    }
}
