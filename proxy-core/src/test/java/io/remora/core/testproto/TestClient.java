package io.remora.core.testproto;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/** A blocking socket client for {@link TestProtocol}: one frame out, one frame in. Not thread-safe. */
public final class TestClient implements AutoCloseable {

    public record Reply(int type, long id, int status, String service, String method, String payload) {
        public boolean ok() {
            return type == 1 && status == 0;
        }
    }

    private final Socket socket;
    private final DataInputStream in;
    private final DataOutputStream out;

    public TestClient(int port) throws IOException {
        socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(10_000);
        socket.setTcpNoDelay(true);
        in = new DataInputStream(socket.getInputStream());
        out = new DataOutputStream(socket.getOutputStream());
    }

    public void send(int type, long id, int timeout, String service, String method, String headers, String payload)
            throws IOException {
        byte[] b = (nz(service) + "|" + nz(method) + "|" + nz(headers) + "|" + nz(payload))
                .getBytes(StandardCharsets.UTF_8);
        out.writeByte(TestProtocol.MAGIC);
        out.writeByte(type);
        out.writeLong(id);
        out.writeInt(timeout);
        out.writeByte(0);
        out.writeInt(b.length);
        out.write(b);
        out.flush();
    }

    public void sendRaw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    public Reply call(long id, String service, String method, String payload) throws IOException {
        send(0, id, 3000, service, method, "", payload);
        return read();
    }

    public Reply read() throws IOException {
        byte magic = in.readByte();
        if (magic != TestProtocol.MAGIC) {
            throw new IOException("bad magic " + magic);
        }
        int type = in.readByte();
        long id = in.readLong();
        in.readInt();
        int status = in.readUnsignedByte();
        int len = in.readInt();
        byte[] b = new byte[len];
        in.readFully(b);
        String[] parts = new String(b, StandardCharsets.UTF_8).split("\\|", 4);
        return new Reply(type, id, status, part(parts, 0), part(parts, 1), parts.length > 3 ? parts[3] : "");
    }

    /** True if the peer closed the connection (EOF) within the socket timeout. */
    public boolean closedByPeer() throws IOException {
        try {
            return in.read() == -1;
        } catch (EOFException | java.net.SocketException e) {
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        }
    }

    public void soTimeout(int ms) throws IOException {
        socket.setSoTimeout(ms);
    }

    private static String part(String[] p, int i) {
        return p.length > i ? p[i] : "";
    }

    private static String nz(String s) {
        return s == null ? "" : s;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
