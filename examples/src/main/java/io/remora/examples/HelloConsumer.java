package io.remora.examples;

import com.alipay.sofa.rpc.config.ApplicationConfig;
import com.alipay.sofa.rpc.config.ConsumerConfig;
import com.example.HelloService;

/**
 * A real SOFARPC consumer that calls {@code com.example.HelloService:1.0} through the sidecar's outbound Bolt listener
 * (a direct {@code bolt://} URL, no registry) and prints the reply. Exit status 0 on a reply, 1 otherwise.
 *
 * <pre>java -cp 'examples/target/classes:examples/target/lib/*' io.remora.examples.HelloConsumer [host:port] [name] [calls]</pre>
 */
public final class HelloConsumer implements AutoCloseable {

    public static final String DEFAULT_TARGET = "127.0.0.1:12200";

    private final ConsumerConfig<HelloService> consumer;
    private final HelloService service;

    private HelloConsumer(ConsumerConfig<HelloService> consumer) {
        this.consumer = consumer;
        this.service = consumer.refer();
    }

    /** A consumer bound to {@code host:port} (the sidecar, or a provider directly). */
    public static HelloConsumer connect(String target, int timeoutMillis) {
        SofaDefaults.apply();
        ConsumerConfig<HelloService> c = new ConsumerConfig<HelloService>()
                .setApplication(new ApplicationConfig().setAppName("hello-client"))
                .setInterfaceId(HelloService.class.getName())
                .setVersion(HelloProvider.VERSION)
                .setProtocol("bolt")
                .setDirectUrl("bolt://" + target)
                .setRegister(false)
                .setSubscribe(false)
                .setConnectTimeout(1000)
                .setTimeout(timeoutMillis);
        return new HelloConsumer(c);
    }

    public String sayHello(String name) {
        return service.sayHello(name);
    }

    @Override
    public void close() {
        consumer.unRefer();
    }

    public static void main(String[] args) {
        String target = args.length > 0 ? args[0] : DEFAULT_TARGET;
        String name = args.length > 1 ? args[1] : "remora";
        int calls = args.length > 2 ? Integer.parseInt(args[2]) : 1;
        int status = 0;
        // Generous: a provider's first call initializes its serializers, which takes seconds on a busy machine.
        try (HelloConsumer c = connect(target, 10_000)) {
            for (int i = 0; i < calls; i++) {
                String reply = c.sayHello(name);
                System.out.println("HelloConsumer: " + HelloService.class.getName() + ":" + HelloProvider.VERSION
                        + "#sayHello(\"" + name + "\") via " + target + " -> \"" + reply + "\"");
            }
        } catch (RuntimeException e) {
            System.err.println("HelloConsumer: call via " + target + " failed: " + e);
            status = 1;
        }
        // SOFARPC keeps non-daemon threads; a demo main ends here.
        System.exit(status);
    }
}
