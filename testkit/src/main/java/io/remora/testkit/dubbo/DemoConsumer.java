package io.remora.testkit.dubbo;

import java.util.List;
import org.apache.dubbo.config.ApplicationConfig;
import org.apache.dubbo.config.MethodConfig;
import org.apache.dubbo.config.ReferenceConfig;
import org.apache.dubbo.config.RegistryConfig;
import org.apache.dubbo.config.bootstrap.DubboBootstrap;
import org.apache.dubbo.rpc.model.FrameworkModel;

/**
 * A real Apache Dubbo 3 consumer (own framework model) calling a direct {@code dubbo://127.0.0.1:port} URL, normally
 * the sidecar's listener. Retries are off so each call is one request; {@code fire} is oneway.
 */
public final class DemoConsumer implements AutoCloseable {

    private final FrameworkModel framework = new FrameworkModel();
    private final DubboBootstrap bootstrap;

    public DemoConsumer(String appName) {
        DubboPeers.configure();
        ApplicationConfig app = new ApplicationConfig(appName);
        app.setQosEnable(false);
        bootstrap = DubboBootstrap.newInstance(framework)
                .application(app)
                .registry(new RegistryConfig(RegistryConfig.NO_AVAILABLE));
    }

    /** A {@link DemoService} proxy for {@code group} over {@code connections} dedicated connections (0 = shared). */
    public DemoService demo(int port, String group, int timeoutMillis, int connections) {
        ReferenceConfig<DemoService> r = reference(DemoService.class, port, timeoutMillis);
        r.setGroup(group);
        r.setVersion(DemoProvider.VERSION);
        if (connections > 0) {
            r.setConnections(connections);
        }
        MethodConfig fire = new MethodConfig();
        fire.setName("fire");
        fire.setReturn(false);
        r.setMethods(List.of(fire));
        return get(r);
    }

    public <T> T service(Class<T> type, int port, int timeoutMillis) {
        ReferenceConfig<T> r = reference(type, port, timeoutMillis);
        r.setVersion(DemoProvider.VERSION);
        return get(r);
    }

    private static <T> ReferenceConfig<T> reference(Class<T> type, int port, int timeoutMillis) {
        ReferenceConfig<T> r = new ReferenceConfig<>();
        r.setInterface(type);
        r.setUrl("dubbo://127.0.0.1:" + port);
        r.setTimeout(timeoutMillis);
        r.setRetries(0);
        r.setCheck(false);
        return r;
    }

    private <T> T get(ReferenceConfig<T> r) {
        bootstrap.reference(r);
        bootstrap.start();
        return r.get();
    }

    @Override
    public void close() {
        framework.destroy();
    }
}
