package io.remora.examples.bench;

import com.alipay.remoting.BizContext;
import com.alipay.remoting.rpc.RpcClient;
import com.alipay.remoting.rpc.RpcServer;
import com.alipay.remoting.rpc.protocol.SyncUserProcessor;
import java.io.Serializable;
import java.net.InetSocketAddress;

/** Plain SOFA Bolt: an {@link RpcServer} echoing a byte payload, {@link RpcClient#invokeSync} callers. */
final class BoltMode implements LoadMode {

    private static final int TIMEOUT_MS = 5000;

    @Override
    public String name() {
        return "bolt";
    }

    @Override
    public String listenerProtocol() {
        return "bolt";
    }

    @Override
    public AutoCloseable startProvider(int port, int payloadBytes) throws Exception {
        RpcServer server = new RpcServer("127.0.0.1", port, false);
        server.registerUserProcessor(new EchoProcessor(new byte[payloadBytes]));
        server.startup();
        return server::shutdown;
    }

    @Override
    public Caller connect(InetSocketAddress target, int connections, int payloadBytes) throws Exception {
        RpcClient client = new RpcClient();
        client.startup();
        // Bolt's own URL parameters: a pool of `connections` connections, all opened before the first call.
        String url = target.getHostString() + ":" + target.getPort() + "?_CONNECTIONNUM=" + connections
                + "&_CONNECTIONWARMUP=true&_CONNECTTIMEOUT=1000";
        Echo request = new Echo(new byte[payloadBytes]);
        return new Caller() {
            @Override
            public void call() throws Exception {
                Object reply = client.invokeSync(url, request, TIMEOUT_MS);
                if (!(reply instanceof Echo)) {
                    throw new IllegalStateException("unexpected reply " + reply);
                }
            }

            @Override
            public void close() {
                client.shutdown();
            }
        };
    }

    /** The request and the reply: an opaque payload, like a serialized business object. */
    static final class Echo implements Serializable {
        private static final long serialVersionUID = 1L;
        byte[] payload;

        Echo() {
        }

        Echo(byte[] payload) {
            this.payload = payload;
        }
    }

    static final class EchoProcessor extends SyncUserProcessor<Echo> {
        private final Echo reply;

        EchoProcessor(byte[] payload) {
            this.reply = new Echo(payload);
        }

        @Override
        public Object handleRequest(BizContext ctx, Echo request) {
            return reply;
        }

        @Override
        public String interest() {
            return Echo.class.getName();
        }
    }
}
