package io.remora.filters.routing;

import com.alipay.sofa.rpc.config.ApplicationConfig;
import com.alipay.sofa.rpc.config.ConsumerConfig;
import com.alipay.sofa.rpc.config.ProviderConfig;
import com.alipay.sofa.rpc.config.ServerConfig;

import io.remora.testing.TestSidecar;
import java.util.concurrent.atomic.AtomicInteger;

/** One real SOFARPC bolt provider on 127.0.0.1 that answers {@code sayHello} with its own id; can fail or stop. */
final class Provider implements Greeter, AutoCloseable {

    final String id;
    final int port;
    final AtomicInteger calls = new AtomicInteger();
    volatile boolean failing;
    private ServerConfig server;
    private ProviderConfig<Greeter> provider;

    Provider(String id) {
        this(id, TestSidecar.freePort());
    }

    Provider(String id, int port) {
        this.id = id;
        this.port = port;
        start();
    }

    synchronized void start() {
        server = new ServerConfig().setProtocol("bolt").setHost("127.0.0.1").setBoundHost("127.0.0.1")
                .setPort(port).setDaemon(true);
        provider = new ProviderConfig<Greeter>()
                .setApplication(new ApplicationConfig().setAppName("hello-server"))
                .setInterfaceId(Greeter.class.getName()).setRef(this).setServer(server).setRegister(false)
                .setRepeatedExportLimit(-1);
        provider.export();
    }

    String address() {
        return "127.0.0.1:" + port;
    }

    @Override
    public String sayHello(String name) {
        calls.incrementAndGet();
        if (failing) {
            throw new IllegalStateException("provider " + id + " fails");
        }
        return id;
    }

    @Override
    public String slow(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return id;
    }

    /**
     * Stops the provider: its server socket and connections close. Not unExport: SOFARPC then drops the interface's
     * method cache for every provider of it in this JVM.
     */
    @Override
    public synchronized void close() {
        try {
            server.destroy();
        } catch (RuntimeException ignored) {
            // best effort
        }
    }

    /** A direct-URL SOFARPC consumer with app name {@code app}. Caller unRefers. */
    static ConsumerConfig<Greeter> consumer(String app, int port) {
        return new ConsumerConfig<Greeter>()
                .setApplication(new ApplicationConfig().setAppName(app))
                .setInterfaceId(Greeter.class.getName())
                .setProtocol("bolt")
                .setDirectUrl("bolt://127.0.0.1:" + port)
                .setRegister(false)
                .setSubscribe(false)
                .setTimeout(5000)
                .setRepeatedReferLimit(-1);
    }
}
