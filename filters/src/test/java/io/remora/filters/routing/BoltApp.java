package io.remora.filters.routing;

import com.alipay.remoting.BizContext;
import com.alipay.remoting.rpc.RpcServer;
import com.alipay.remoting.rpc.protocol.SyncUserProcessor;

/** A plain SOFA Bolt server (answers heartbeats, echoes String requests) that can stop and start on its port. */
final class BoltApp implements AutoCloseable {

    final int port;
    private RpcServer server;

    BoltApp(int port) {
        this.port = port;
        start();
    }

    synchronized void start() {
        server = new RpcServer("127.0.0.1", port, false);
        server.registerUserProcessor(new SyncUserProcessor<String>() {
            @Override
            public Object handleRequest(BizContext ctx, String request) {
                return "echo:" + request;
            }

            @Override
            public String interest() {
                return String.class.getName();
            }
        });
        server.startup();
    }

    @Override
    public synchronized void close() {
        server.shutdown();
    }
}
