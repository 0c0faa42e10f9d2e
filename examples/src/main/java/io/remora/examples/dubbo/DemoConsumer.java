package io.remora.examples.dubbo;

import com.example.DemoService;
import org.apache.dubbo.config.ApplicationConfig;
import org.apache.dubbo.config.ReferenceConfig;
import org.apache.dubbo.config.RegistryConfig;
import org.apache.dubbo.config.bootstrap.DubboBootstrap;

/**
 * A real Apache Dubbo 3.3 consumer calling {@code com.example.DemoService:1.0.0} through the sidecar's Dubbo listener
 * (a direct {@code dubbo://} URL, no registry) and printing the reply. Exit status 0 on a reply, 1 otherwise.
 *
 * <pre>java -cp 'examples/target/classes:examples/target/lib/*' io.remora.examples.dubbo.DemoConsumer [host:port] [name]</pre>
 */
public final class DemoConsumer implements AutoCloseable {

    public static final String DEFAULT_TARGET = "127.0.0.1:20880";

    private final DubboBootstrap bootstrap;
    private final DemoService service;

    private DemoConsumer(DubboBootstrap bootstrap, DemoService service) {
        this.bootstrap = bootstrap;
        this.service = service;
    }

    /** A consumer bound to {@code host:port} (the sidecar, or a provider directly). */
    public static DemoConsumer connect(String target, int timeoutMillis) {
        DubboSettings.applyLoopbackDefaults();
        ApplicationConfig app = new ApplicationConfig("demo-consumer");
        app.setQosEnable(false);
        ReferenceConfig<DemoService> ref = new ReferenceConfig<>();
        ref.setInterface(DemoService.class);
        ref.setVersion(DemoProvider.VERSION);
        ref.setUrl("dubbo://" + target);
        ref.setTimeout(timeoutMillis);
        ref.setRetries(0);
        ref.setCheck(false);
        DubboBootstrap b = DubboBootstrap.newInstance()
                .application(app)
                .registry(new RegistryConfig(RegistryConfig.NO_AVAILABLE))
                .reference(ref)
                .start();
        return new DemoConsumer(b, ref.get());
    }

    public String sayHello(String name) {
        return service.sayHello(name);
    }

    @Override
    public void close() {
        bootstrap.stop();
    }

    public static void main(String[] args) {
        String target = args.length > 0 ? args[0] : DEFAULT_TARGET;
        String name = args.length > 1 ? args[1] : "remora";
        int status = 0;
        // Generous: a provider's first call initializes its serializers, which takes seconds on a busy machine.
        try (DemoConsumer c = connect(target, 10_000)) {
            String reply = c.sayHello(name);
            System.out.println("DemoConsumer: " + DemoService.class.getName() + ":" + DemoProvider.VERSION
                    + "#sayHello(\"" + name + "\") via " + target + " -> \"" + reply + "\"");
        } catch (RuntimeException e) {
            System.err.println("DemoConsumer: call via " + target + " failed: " + e);
            status = 1;
        }
        System.exit(status);
    }
}
