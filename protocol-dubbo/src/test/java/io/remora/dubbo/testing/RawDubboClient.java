package io.remora.dubbo.testing;

import io.remora.testkit.dubbo.DemoProvider;
import io.remora.testkit.dubbo.DemoService;

import com.alibaba.com.caucho.hessian.io.Hessian2Input;
import com.alibaba.com.caucho.hessian.io.Hessian2Output;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.util.Map;

/**
 * A blocking Dubbo client on a plain socket: sends hand-built frames with any id (so tests can make ids collide) and
 * reads whole frames back. Bodies are written and read with hessian-lite, as Dubbo's own codec does.
 */
public final class RawDubboClient implements AutoCloseable {

    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;

    public RawDubboClient(int port) throws IOException {
        socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        socket.setSoTimeout(10_000);
        in = new DataInputStream(socket.getInputStream());
        out = socket.getOutputStream();
    }

    /** One received frame. */
    public record Frame(int flag, int status, long id, byte[] body) {
        /** For a status-20 response: the result value; otherwise the error string. */
        public Object result() throws IOException {
            Hessian2Input h = new Hessian2Input(new ByteArrayInputStream(body));
            if (status != 20) {
                return h.readString();
            }
            int kind = h.readInt();
            return kind == 1 || kind == 4 ? h.readObject() : null;
        }
    }

    /** A two-way request frame for {@code DemoService:1.0.0} in {@code group} calling {@code method(String)}. */
    public static byte[] request(long id, String iface, String group, String method, String arg) throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        Hessian2Output h = new Hessian2Output(bos);
        h.writeString("2.0.2");
        h.writeString(iface);
        h.writeString(DemoProvider.VERSION);
        h.writeString(method);
        h.writeString("Ljava/lang/String;");
        h.writeString(arg);
        h.writeObject(new java.util.HashMap<>(Map.of("path", iface, "interface", iface, "version",
                DemoProvider.VERSION, "group", group, "timeout", "5000")));
        h.flush();
        byte[] body = bos.toByteArray();
        return ByteBuffer.allocate(16 + body.length).putShort((short) 0xdabb).put((byte) 0xC2).put((byte) 0)
                .putLong(id).putInt(body.length).put(body).array();
    }

    public void send(byte[] frame) throws IOException {
        out.write(frame);
        out.flush();
    }

    public Frame read() throws IOException {
        byte[] header = new byte[16];
        in.readFully(header);
        ByteBuffer h = ByteBuffer.wrap(header);
        if (h.getShort(0) != (short) 0xdabb) {
            throw new IOException("bad magic in reply");
        }
        byte[] body = new byte[h.getInt(12)];
        in.readFully(body);
        return new Frame(header[2] & 0xFF, header[3] & 0xFF, h.getLong(4), body);
    }

    /** True if the peer closes the connection within the socket timeout (any bytes before the close are ignored). */
    public boolean closedByPeer() throws IOException {
        try {
            byte[] buf = new byte[4096];
            while (in.read(buf) >= 0) {
                // drain
            }
            return true;
        } catch (EOFException e) {
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
