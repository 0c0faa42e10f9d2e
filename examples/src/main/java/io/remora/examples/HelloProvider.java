package io.remora.examples;

import com.alipay.sofa.rpc.config.ApplicationConfig;
import com.alipay.sofa.rpc.config.ProviderConfig;
import com.alipay.sofa.rpc.config.ServerConfig;
import com.example.HelloService;
import java.util.concurrent.CountDownLatch;

/**
 * A real SOFARPC provider of {@code com.example.HelloService:1.0} over Bolt, registry off. The app side of the demo:
 * in the product the app listens on 12199 and the sidecar owns 12200.
 *
 * <pre>java -cp 'examples/target/classes:examples/target/lib/*' io.remora.examples.HelloProvider [port]</pre>
 */
public final class HelloProvider implements AutoCloseable {

    public static final int DEFAULT_PORT = 12199;
    public static final String VERSION = "1.0";

    private final ServerConfig server;
    private final ProviderConfig<HelloService> provider;

    private HelloProvider(ServerConfig server, ProviderConfig<HelloService> provider) {
        this.server = server;
        this.provider = provider;
    }

    /** Exports the service on 127.0.0.1:{@code port}; returns once it accepts calls. */
    public static HelloProvider start(int port) {
        SofaDefaults.apply();
        ServerConfig server = new ServerConfig()
                .setProtocol("bolt")
                .setHost("127.0.0.1")
                .setBoundHost("127.0.0.1")
                .setPort(port)
                .setDaemon(true);
        ProviderConfig<HelloService> provider = new ProviderConfig<HelloService>()
                .setApplication(new ApplicationConfig().setAppName("hello-provider"))
                .setInterfaceId(HelloService.class.getName())
                .setVersion(VERSION)
                .setRef(new HelloServiceImpl())
                .setServer(server)
                .setRegister(false);
        provider.export();
        return new HelloProvider(server, provider);
    }

    @Override
    public void close() {
        provider.unExport();
        server.destroy();
    }

    public static void main(String[] args) throws InterruptedException {
        int port = args.length > 0 ? Integer.parseInt(args[0]) : DEFAULT_PORT;
        HelloProvider p = start(port);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            p.close();
            stopped.countDown();
        }, "hello-provider-shutdown"));
        System.out.println("HelloProvider: " + HelloService.class.getName() + ":" + VERSION
                + " serving on bolt://127.0.0.1:" + port);
        stopped.await();
    }

    static final class HelloServiceImpl implements HelloService {
        @Override
        public String sayHello(String name) {
            return "hello " + name;
        }
    }
}
