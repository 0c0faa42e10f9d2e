package io.remora.attack;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/** Plain blocking sockets for the attackers, and what the sidecar did to them. */
final class Raw {

    private Raw() {
    }

    static Socket connect(int port) throws IOException {
        Socket s = new Socket();
        s.setTcpNoDelay(true);
        s.connect(new InetSocketAddress("127.0.0.1", port), 3000);
        s.setSoTimeout(5000);
        return s;
    }

    /** How a connection ended from the attacker's side, and what it received before. */
    record End(boolean closed, boolean reset, long millis, byte[] received) {
        String text() {
            return new String(received, StandardCharsets.ISO_8859_1);
        }

        /** The status code of an HTTP/1 response at the start of what was received, or 0. */
        int httpStatus() {
            String t = text();
            return t.startsWith("HTTP/1.1 ") && t.length() >= 12 ? Integer.parseInt(t.substring(9, 12)) : 0;
        }
    }

    /** Reads until the sidecar closes (FIN or RST) or {@code timeoutMillis} pass. */
    static End awaitClose(Socket s, long timeoutMillis) throws IOException {
        long t0 = System.nanoTime();
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        s.setSoTimeout((int) Math.max(1, timeoutMillis));
        byte[] buf = new byte[8192];
        InputStream in = s.getInputStream();
        try {
            while (true) {
                int n = in.read(buf);
                if (n < 0) {
                    return new End(true, false, ms(t0), got.toByteArray());
                }
                if (got.size() < 1 << 20) {
                    got.write(buf, 0, n);
                }
                long left = timeoutMillis - ms(t0);
                if (left <= 0) {
                    return new End(false, false, ms(t0), got.toByteArray());
                }
                s.setSoTimeout((int) left);
            }
        } catch (SocketTimeoutException e) {
            return new End(false, false, ms(t0), got.toByteArray());
        } catch (IOException e) {
            return new End(true, true, ms(t0), got.toByteArray()); // reset
        }
    }

    static long ms(long t0) {
        return (System.nanoTime() - t0) / 1_000_000;
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }
}
