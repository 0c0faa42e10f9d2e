package io.remora.examples.bench;

import com.alipay.remoting.InvokeCallback;
import com.alipay.remoting.rpc.RpcClient;
import com.alipay.remoting.rpc.RpcServer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.apache.dubbo.config.ApplicationConfig;
import org.apache.dubbo.config.ProtocolConfig;
import org.apache.dubbo.config.ReferenceConfig;
import org.apache.dubbo.config.RegistryConfig;
import org.apache.dubbo.config.ServiceConfig;
import org.apache.dubbo.config.bootstrap.DubboBootstrap;

/** Bolt and Dubbo providers and asynchronous callers for the suite. */
final class RpcCallers {

    static final String DUBBO_VERSION = "1.0";
    private static final int TIMEOUT_MS = 5000;

    private RpcCallers() {
    }

    private static void dubboDefaults() {
        System.setProperty("dubbo.network.interface.ignored", ".*"); // else 127.0.0.1 becomes the NIC address
        System.setProperty("dubbo.service.shutdown.wait", "1000");
    }

    static AutoCloseable boltProvider(int port) {
        RpcServer server = new RpcServer("127.0.0.1", port, false);
        server.registerUserProcessor(new EchoBack());
        server.startup();
        return server::shutdown;
    }

    static AsyncCaller bolt(int port, int connections, int payloadBytes) {
        RpcClient client = new RpcClient();
        client.startup();
        String url = "127.0.0.1:" + port + "?_CONNECTIONNUM=" + connections
                + "&_CONNECTIONWARMUP=true&_CONNECTTIMEOUT=3000";
        BoltMode.Echo request = new BoltMode.Echo(new byte[payloadBytes]);
        return new AsyncCaller() {
            @Override
            public void call(Done done) {
                try {
                    client.invokeWithCallback(url, request, new InvokeCallback() {
                        @Override
                        public void onResponse(Object result) {
                            done.ok();
                        }

                        @Override
                        public void onException(Throwable e) {
                            done.failed(e);
                        }

                        @Override
                        public Executor getExecutor() {
                            return null; // run on Bolt's own thread: no hand-off in the client
                        }
                    }, TIMEOUT_MS);
                } catch (Exception e) {
                    done.failed(e);
                }
            }

            @Override
            public void close() {
                client.shutdown();
            }
        };
    }

    /** Answers with the request itself: the reply is as large as the request. */
    static final class EchoBack extends com.alipay.remoting.rpc.protocol.SyncUserProcessor<BoltMode.Echo> {
        @Override
        public Object handleRequest(com.alipay.remoting.BizContext ctx, BoltMode.Echo request) {
            return request;
        }

        @Override
        public String interest() {
            return BoltMode.Echo.class.getName();
        }
    }

    static final class EchoServiceImpl implements EchoService {
        @Override
        public CompletableFuture<byte[]> echo(byte[] payload) {
            return CompletableFuture.completedFuture(payload);
        }
    }

    static AutoCloseable dubboProvider(int port) {
        dubboDefaults();
        ApplicationConfig app = new ApplicationConfig("bench-provider");
        app.setQosEnable(false);
        ProtocolConfig protocol = new ProtocolConfig("dubbo", port);
        protocol.setHost("127.0.0.1");
        ServiceConfig<EchoService> service = new ServiceConfig<>();
        service.setInterface(EchoService.class);
        service.setRef(new EchoServiceImpl());
        service.setVersion(DUBBO_VERSION);
        DubboBootstrap b = DubboBootstrap.newInstance().application(app)
                .registry(new RegistryConfig(RegistryConfig.NO_AVAILABLE)).protocol(protocol).service(service).start();
        return b::stop;
    }

    static AsyncCaller dubbo(int port, int connections, int payloadBytes) {
        dubboDefaults();
        ApplicationConfig app = new ApplicationConfig("bench-consumer-" + port + "-" + System.nanoTime());
        app.setQosEnable(false);
        ReferenceConfig<EchoService> ref = new ReferenceConfig<>();
        ref.setInterface(EchoService.class);
        ref.setVersion(DUBBO_VERSION);
        ref.setUrl("dubbo://127.0.0.1:" + port);
        ref.setTimeout(TIMEOUT_MS);
        ref.setRetries(0);
        ref.setCheck(false);
        ref.setConnections(connections);
        DubboBootstrap b = DubboBootstrap.newInstance().application(app)
                .registry(new RegistryConfig(RegistryConfig.NO_AVAILABLE)).reference(ref).start();
        EchoService svc = ref.get();
        byte[] payload = new byte[payloadBytes];
        return new AsyncCaller() {
            @Override
            public void call(Done done) {
                try {
                    svc.echo(payload).whenComplete((r, e) -> {
                        if (e != null) {
                            done.failed(e);
                        } else {
                            done.ok();
                        }
                    });
                } catch (RuntimeException e) {
                    done.failed(e);
                }
            }

            @Override
            public void close() {
                b.stop();
            }
        };
    }
}
