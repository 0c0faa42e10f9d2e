package io.remora.core.chain;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Envoy's {@code tls_inspector} and {@code http_inspector} in one look at a connection's first bytes, without
 * consuming them and without terminating TLS: a TLS ClientHello gives {@code tls}, its SNI and its ALPN list; plaintext
 * gives {@code raw_buffer}, and {@code http/1.1} or {@code h2c} when it starts like HTTP.
 */
public final class FirstBytes {

    /** What inspection found; {@code serverName} lower case or null, {@code alpn} possibly empty. */
    public record Result(String transport, String serverName, List<String> alpn) {
        static final Result RAW = new Result("raw_buffer", null, List.of());
    }

    /** The most a ClientHello may take before we decide on what we have (one TLS record). */
    static final int MAX_CLIENT_HELLO = 16 * 1024 + 5;
    private static final byte[] H2_PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final String[] METHODS = {"GET ", "POST ", "PUT ", "HEAD ", "DELETE ", "OPTIONS ", "PATCH ",
        "TRACE ", "CONNECT "};

    private FirstBytes() {
    }

    /** The result, or null when more bytes are needed to tell. Never throws, never moves the reader index. */
    public static Result inspect(ByteBuf in) {
        int r = in.readerIndex();
        int n = in.readableBytes();
        if (n == 0) {
            return null;
        }
        if (in.getByte(r) == 0x16) { // TLS handshake record
            if (n < 3) {
                return null;
            }
            if (in.getByte(r + 1) != 0x03) {
                return Result.RAW;
            }
            return clientHello(in, r, n);
        }
        return http(in, r, n);
    }

    private static Result http(ByteBuf in, int r, int n) {
        boolean needMore = false;
        switch (prefix(in, r, n, H2_PREFACE)) {
            case 1 -> {
                return new Result("raw_buffer", null, List.of("h2c"));
            }
            case 0 -> needMore = true;
            default -> {
            }
        }
        for (String m : METHODS) {
            switch (prefix(in, r, n, m.getBytes(StandardCharsets.US_ASCII))) {
                case 1 -> {
                    return new Result("raw_buffer", null, List.of("http/1.1"));
                }
                case 0 -> needMore = true;
                default -> {
                }
            }
        }
        return needMore ? null : Result.RAW;
    }

    /** 1 = starts with {@code p}, 0 = could still (too few bytes), -1 = does not. */
    private static int prefix(ByteBuf in, int r, int n, byte[] p) {
        int k = Math.min(n, p.length);
        for (int i = 0; i < k; i++) {
            if (in.getByte(r + i) != p[i]) {
                return -1;
            }
        }
        return k == p.length ? 1 : 0;
    }

    private static Result clientHello(ByteBuf in, int r, int n) {
        if (n < 5) {
            return null;
        }
        int recordLen = in.getUnsignedShort(r + 3);
        if (n < 5 + recordLen) {
            return n >= MAX_CLIENT_HELLO ? new Result("tls", null, List.of()) : null;
        }
        int p = r + 5;
        int end = p + recordLen;
        try {
            if (in.getByte(p) != 0x01) { // not a ClientHello
                return new Result("tls", null, List.of());
            }
            int helloEnd = Math.min(end, p + 4 + in.getUnsignedMedium(p + 1));
            p += 4 + 2 + 32; // handshake header, client_version, random
            p += 1 + in.getUnsignedByte(p); // session id
            p += 2 + in.getUnsignedShort(p); // cipher suites
            p += 1 + in.getUnsignedByte(p); // compression methods
            if (p + 2 > helloEnd) {
                return new Result("tls", null, List.of());
            }
            int extEnd = Math.min(helloEnd, p + 2 + in.getUnsignedShort(p));
            p += 2;
            String sni = null;
            List<String> alpn = new ArrayList<>(2);
            while (p + 4 <= extEnd) {
                int type = in.getUnsignedShort(p);
                int len = in.getUnsignedShort(p + 2);
                int data = p + 4;
                if (data + len > extEnd) {
                    break;
                }
                if (type == 0 && len >= 5) { // server_name: list length, name type 0 (host_name), name
                    int nameLen = in.getUnsignedShort(data + 3);
                    if (in.getByte(data + 2) == 0 && data + 5 + nameLen <= data + len) {
                        sni = in.toString(data + 5, nameLen, StandardCharsets.US_ASCII).toLowerCase(Locale.ROOT);
                    }
                } else if (type == 16 && len >= 2) { // application_layer_protocol_negotiation
                    int q = data + 2;
                    int listEnd = Math.min(data + len, q + in.getUnsignedShort(data));
                    while (q < listEnd) {
                        int l = in.getUnsignedByte(q);
                        if (q + 1 + l > listEnd) {
                            break;
                        }
                        alpn.add(in.toString(q + 1, l, StandardCharsets.US_ASCII));
                        q += 1 + l;
                    }
                }
                p = data + len;
            }
            return new Result("tls", sni, List.copyOf(alpn));
        } catch (IndexOutOfBoundsException e) {
            return new Result("tls", null, List.of()); // malformed: TLS all the same, the handshake will tell
        }
    }
}
