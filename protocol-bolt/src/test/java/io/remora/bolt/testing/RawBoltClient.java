package io.remora.bolt.testing;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;

/** A blocking Bolt client over a plain socket: writes crafted bytes, reads whole frames, every read with a timeout. */
public final class RawBoltClient implements AutoCloseable {

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    public RawBoltClient(int port, int readTimeoutMillis) throws IOException {
        socket = new Socket();
        socket.setTcpNoDelay(true);
        socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        socket.setSoTimeout(readTimeoutMillis);
        in = socket.getInputStream();
        out = socket.getOutputStream();
    }

    public RawBoltClient send(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
        return this;
    }

    /** The next whole frame; {@link SocketTimeoutException} if none within the read timeout. */
    public byte[] read() throws IOException {
        return BoltFrames.read(in);
    }

    /** True if the peer closes the connection (EOF or reset) before the read timeout; unread frames are skipped. */
    public boolean awaitClosed() throws IOException {
        byte[] buf = new byte[8192];
        try {
            while (in.read(buf) >= 0) {
                // drain until the end of stream
            }
            return true;
        } catch (SocketException reset) {
            return true;
        } catch (SocketTimeoutException | EOFException e) {
            return false;
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
