package io.remora.attack;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.function.Supplier;

/**
 * A sender that never reads: non-blocking writes of whatever {@code next} supplies until the sidecar closes the
 * connection, the writes stall (nothing accepted for {@code stallMillis}: the sidecar stopped reading), a byte budget
 * or a deadline. Its receive buffer is small, so what the sidecar answers stays queued on the sidecar's side.
 */
final class Flood implements AutoCloseable {

    final SocketChannel channel;
    long written;
    boolean errored;
    boolean stalled;
    String error;

    Flood(int port, int receiveBuffer) throws IOException {
        channel = SocketChannel.open();
        channel.setOption(StandardSocketOptions.SO_RCVBUF, receiveBuffer);
        channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
        channel.connect(new InetSocketAddress("127.0.0.1", port));
        channel.configureBlocking(false);
    }

    /** Writes until closed, stalled, {@code maxBytes} or {@code deadlineMillis}; returns this. */
    Flood send(Supplier<ByteBuffer> next, long maxBytes, long stallMillis, long deadlineMillis) {
        long end = System.currentTimeMillis() + deadlineMillis;
        ByteBuffer buf = null;
        long lastProgress = System.currentTimeMillis();
        try {
            while (written < maxBytes && System.currentTimeMillis() < end) {
                if (buf == null || !buf.hasRemaining()) {
                    buf = next.get();
                    if (buf == null) {
                        break;
                    }
                }
                int n = channel.write(buf);
                if (n > 0) {
                    written += n;
                    lastProgress = System.currentTimeMillis();
                } else if (System.currentTimeMillis() - lastProgress > stallMillis) {
                    stalled = true;
                    break;
                } else {
                    Thread.sleep(1); // the socket buffer is full: the sidecar is not reading right now
                }
            }
        } catch (IOException e) {
            errored = true;
            error = e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return this;
    }

    /** Writes {@code bytes} whole (stall-bounded). */
    Flood send(byte[] bytes, long stallMillis) {
        ByteBuffer[] once = {ByteBuffer.wrap(bytes)};
        return send(() -> {
            ByteBuffer b = once[0];
            once[0] = null;
            return b;
        }, Long.MAX_VALUE, stallMillis, 10_000);
    }

    /** Reads (blocking) until EOF/reset or the timeout, keeping at most {@code keep} bytes. */
    Raw.End drain(long timeoutMillis, int keep) throws IOException {
        channel.configureBlocking(true);
        InputStream in = channel.socket().getInputStream();
        channel.socket().setSoTimeout((int) timeoutMillis);
        long t0 = System.nanoTime();
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        byte[] b = new byte[65536];
        try {
            while (Raw.ms(t0) < timeoutMillis) {
                int n = in.read(b);
                if (n < 0) {
                    return new Raw.End(true, false, Raw.ms(t0), got.toByteArray());
                }
                if (got.size() < keep) {
                    got.write(b, 0, Math.min(n, keep - got.size()));
                }
            }
            return new Raw.End(false, false, Raw.ms(t0), got.toByteArray());
        } catch (java.net.SocketTimeoutException e) {
            return new Raw.End(false, false, Raw.ms(t0), got.toByteArray());
        } catch (IOException e) {
            return new Raw.End(true, true, Raw.ms(t0), got.toByteArray());
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
