package io.remora.bolt.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A Bolt upstream over plain sockets that records every frame it receives exactly as it arrived (to check what the
 * sidecar forwards: ids, timeouts, CRCs) and answers requests with an empty SUCCESS response in the request's own
 * proto/ver1/switch (CRC included), heartbeats with an ack, oneways with nothing. Requests whose class name is
 * {@link #SILENT_CLASS} are never answered (for timeout tests).
 */
public final class RawBoltServer implements AutoCloseable {

    public static final String SILENT_CLASS = "x.Silent";

    private final ServerSocket server;
    private final BlockingQueue<byte[]> received = new LinkedBlockingQueue<>();
    private final AtomicInteger connections = new AtomicInteger();
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final Thread acceptor;

    public RawBoltServer() throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        acceptor = new Thread(this::acceptLoop, "raw-bolt-server");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public int port() {
        return server.getLocalPort();
    }

    public BlockingQueue<byte[]> received() {
        return received;
    }

    public int connections() {
        return connections.get();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                connections.incrementAndGet();
                sockets.add(s);
                Thread t = new Thread(() -> serve(s), "raw-bolt-conn");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket s) {
        try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
            for (;;) {
                byte[] f = BoltFrames.read(in);
                received.add(f);
                int type = BoltFrames.type(f);
                if (type == 2 || new String(f, StandardCharsets.ISO_8859_1).contains(SILENT_CLASS)) {
                    continue;
                }
                boolean v2 = f[0] == 2;
                BoltFrames.Spec reply = new BoltFrames.Spec(v2, v2 ? f[1] : 1, v2 ? f[11] : 0, 0,
                        BoltFrames.cmd(f) == 0 ? 0 : 2, BoltFrames.id(f), 0, null, null, null);
                out.write(BoltFrames.build(reply));
                out.flush();
            }
        } catch (IOException e) {
            // connection over
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket s : sockets) {
            s.close();
        }
    }
}
