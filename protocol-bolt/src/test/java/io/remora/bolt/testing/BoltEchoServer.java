package io.remora.bolt.testing;

import com.alipay.remoting.BizContext;
import com.alipay.remoting.ConnectionEventType;
import com.alipay.remoting.rpc.RpcServer;
import com.alipay.remoting.rpc.protocol.SyncUserProcessor;
import io.remora.testing.TestSidecar;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A plain SOFA Bolt {@code RpcServer} (no SOFARPC) answering {@code String} requests with {@code "echo:" + s}.
 * Counts the connections it accepted and records every request, so tests can check multiplexing and oneway.
 */
public final class BoltEchoServer implements AutoCloseable {

    private final RpcServer server;
    private final int port;
    private final AtomicInteger connections = new AtomicInteger();
    private final BlockingQueue<String> received = new LinkedBlockingQueue<>();

    public BoltEchoServer() {
        port = TestSidecar.freePort();
        server = new RpcServer("127.0.0.1", port, false);
        server.addConnectionEventProcessor(ConnectionEventType.CONNECT, (addr, conn) -> connections.incrementAndGet());
        server.registerUserProcessor(new SyncUserProcessor<String>() {
            @Override
            public Object handleRequest(BizContext ctx, String request) {
                received.add(request);
                return "echo:" + request;
            }

            @Override
            public String interest() {
                return String.class.getName();
            }
        });
        server.startup();
    }

    public int port() {
        return port;
    }

    public int connections() {
        return connections.get();
    }

    public BlockingQueue<String> received() {
        return received;
    }

    @Override
    public void close() {
        server.shutdown();
    }
}
