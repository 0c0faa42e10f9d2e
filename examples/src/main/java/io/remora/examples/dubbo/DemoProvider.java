package io.remora.examples.dubbo;

import com.example.DemoService;
import java.util.concurrent.CountDownLatch;
import org.apache.dubbo.config.ApplicationConfig;
import org.apache.dubbo.config.ProtocolConfig;
import org.apache.dubbo.config.RegistryConfig;
import org.apache.dubbo.config.ServiceConfig;
import org.apache.dubbo.config.bootstrap.DubboBootstrap;

/**
 * A real Apache Dubbo 3.3 provider of {@code com.example.DemoService} version {@code 1.0.0} on dubbo://, registry off.
 *
 * <pre>java -cp 'examples/target/classes:examples/target/lib/*' io.remora.examples.dubbo.DemoProvider [port]</pre>
 */
public final class DemoProvider implements AutoCloseable {

    public static final int DEFAULT_PORT = 20881;
    public static final String VERSION = "1.0.0";

    private final DubboBootstrap bootstrap;

    private DemoProvider(DubboBootstrap bootstrap) {
        this.bootstrap = bootstrap;
    }

    /** Exports the service on 127.0.0.1:{@code port}; returns once it accepts calls. */
    public static DemoProvider start(int port) {
        DubboSettings.applyLoopbackDefaults();
        ApplicationConfig app = new ApplicationConfig("demo-provider");
        app.setQosEnable(false);
        ProtocolConfig protocol = new ProtocolConfig("dubbo", port);
        protocol.setHost("127.0.0.1");
        ServiceConfig<DemoService> service = new ServiceConfig<>();
        service.setInterface(DemoService.class);
        service.setRef(new DemoServiceImpl());
        service.setVersion(VERSION);
        DubboBootstrap b = DubboBootstrap.newInstance()
                .application(app)
                .registry(new RegistryConfig(RegistryConfig.NO_AVAILABLE))
                .protocol(protocol)
                .service(service)
                .start();
        return new DemoProvider(b);
    }

    @Override
    public void close() {
        bootstrap.stop();
    }

    public static void main(String[] args) throws InterruptedException {
        int port = args.length > 0 ? Integer.parseInt(args[0]) : DEFAULT_PORT;
        DemoProvider p = start(port);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            p.close();
            stopped.countDown();
        }, "demo-provider-shutdown"));
        System.out.println("DemoProvider: " + DemoService.class.getName() + ":" + VERSION
                + " serving on dubbo://127.0.0.1:" + port);
        stopped.await();
    }

    static final class DemoServiceImpl implements DemoService {
        @Override
        public String sayHello(String name) {
            return "hello " + name;
        }
    }
}
