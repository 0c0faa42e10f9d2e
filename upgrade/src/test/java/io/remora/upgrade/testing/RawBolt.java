package io.remora.upgrade.testing;

import java.io.DataInputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;

/** One plain socket speaking Bolt v1 heartbeats (the sidecar answers them itself): proves a socket still works. */
public final class RawBolt implements AutoCloseable {

    private final Socket socket;
    private final DataInputStream in;
    private int nextId = 1;

    public RawBolt(int port) throws IOException {
        socket = new Socket();
        socket.setTcpNoDelay(true);
        socket.connect(new InetSocketAddress("127.0.0.1", port), 3000);
        socket.setSoTimeout(5000);
        in = new DataInputStream(socket.getInputStream());
    }

    public int localPort() {
        return socket.getLocalPort();
    }

    /** Sends a heartbeat and reads its acknowledgement (same id); throws on anything else. */
    public void heartbeat() throws IOException {
        int id = nextId++;
        ByteBuffer b = ByteBuffer.allocate(22);
        b.put((byte) 1).put((byte) 1).putShort((short) 0).put((byte) 1).putInt(id).put((byte) 1).putInt(3000)
                .putShort((short) 0).putShort((short) 0).putInt(0);
        socket.getOutputStream().write(b.array());
        socket.getOutputStream().flush();
        byte[] r = new byte[20];
        in.readFully(r);
        ByteBuffer rb = ByteBuffer.wrap(r);
        if (rb.get(0) != 1 || rb.get(1) != 0 || rb.getInt(5) != id) {
            throw new IOException("not a heartbeat ack for " + id);
        }
        in.readFully(new byte[rb.getShort(12) + rb.getShort(14) + rb.getInt(16)]); // class, header, content
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
