package io.remora.testkit.dubbo;

import io.remora.testing.TestSidecar;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.dubbo.config.ApplicationConfig;
import org.apache.dubbo.config.ProtocolConfig;
import org.apache.dubbo.config.RegistryConfig;
import org.apache.dubbo.config.ServiceConfig;
import org.apache.dubbo.config.bootstrap.DubboBootstrap;
import org.apache.dubbo.rpc.RpcContext;
import org.apache.dubbo.rpc.model.FrameworkModel;

/**
 * A real Apache Dubbo 3 provider on 127.0.0.1 (own framework model, registry N/A, QoS off) exporting
 * {@link DemoService} version 1.0.0 in groups g1 and g2. Every answer names the provider, so tests see who answered.
 */
public final class DemoProvider implements AutoCloseable {

    public static final String VERSION = "1.0.0";

    private final String name;
    private final int port;
    private final FrameworkModel framework;
    private final BlockingQueue<String> fired = new LinkedBlockingQueue<>();

    private DemoProvider(String name, int port, FrameworkModel framework) {
        this.name = name;
        this.port = port;
        this.framework = framework;
    }

    public static DemoProvider start(String name) {
        DubboPeers.configure();
        int port = TestSidecar.freePort();
        FrameworkModel fw = new FrameworkModel();
        DemoProvider p = new DemoProvider(name, port, fw);
        ApplicationConfig app = new ApplicationConfig("provider-" + name);
        app.setQosEnable(false);
        ProtocolConfig proto = new ProtocolConfig("dubbo", port);
        proto.setHost("127.0.0.1");
        List<ServiceConfig<DemoService>> services = new ArrayList<>();
        for (String group : new String[] {"g1", "g2"}) {
            ServiceConfig<DemoService> s = new ServiceConfig<>();
            s.setInterface(DemoService.class);
            s.setRef(p.new Impl());
            s.setVersion(VERSION);
            s.setGroup(group);
            services.add(s);
        }
        DubboBootstrap b = DubboBootstrap.newInstance(fw)
                .application(app)
                .registry(new RegistryConfig(RegistryConfig.NO_AVAILABLE))
                .protocol(proto);
        services.forEach(b::service);
        b.start();
        return p;
    }

    public int port() {
        return port;
    }

    public String name() {
        return name;
    }

    /** The next oneway message this provider received, or null after {@code seconds}. */
    public String nextFired(long seconds) throws InterruptedException {
        return fired.poll(seconds, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
        framework.destroy();
    }

    private final class Impl implements DemoService {
        @Override
        public String sayHello(String who) {
            return "hello " + who + " from " + name;
        }

        @Override
        public CompletableFuture<String> sayHelloAsync(String who) {
            return CompletableFuture.supplyAsync(() -> "async hello " + who + " from " + name);
        }

        @Override
        public void fire(String message) {
            fired.add(message);
        }

        @Override
        public Person echo(Person p) {
            return p;
        }

        @Override
        public List<Person> echoAll(List<Person> people) {
            return people;
        }

        @Override
        public String large(String s) {
            return s.length() + ":" + s.charAt(s.length() - 1) + " from " + name;
        }

        @Override
        public String slow(int millis) {
            try {
                Thread.sleep(millis); // simulates a slow service; nothing to await
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return "slow from " + name;
        }

        @Override
        public String attachment(String key) {
            return RpcContext.getServerAttachment().getAttachment(key) + " from " + name;
        }
    }
}
