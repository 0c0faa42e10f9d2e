package io.remora.attack;

import io.remora.bolt.testing.BoltFrames;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** Hand-built hostile bytes: Bolt, Dubbo and HTTP/2 frames written field by field (independent of the codecs). */
final class Wire {

    private Wire() {
    }

    // ---- Bolt

    /** A v1 request for {@code service} (SOFARPC header keys), content {@code contentBytes} zero bytes. */
    static byte[] boltRequest(int id, String service, int timeout, int contentBytes) {
        Map<String, String> h = new LinkedHashMap<>();
        h.put("service", service);
        h.put("sofa_head_method_name", "hold");
        return BoltFrames.build(BoltFrames.Spec.request(id, timeout, "com.alipay.sofa.rpc.core.request.SofaRequest",
                h, new byte[contentBytes]));
    }

    /** A Bolt v1 request header declaring the given lengths (no body follows). */
    static byte[] boltHeaderDeclaring(int classLen, int headerLen, long contentLen) {
        return ByteBuffer.allocate(22).put((byte) 1).put((byte) 1).putShort((short) 1).put((byte) 1).putInt(7)
                .put((byte) 1).putInt(3000).putShort((short) classLen).putShort((short) headerLen)
                .putInt((int) contentLen).array();
    }

    // ---- Dubbo

    static final int DUBBO_TWOWAY = 0xC2;

    /** A Dubbo frame header declaring {@code bodyLength} (unsigned) bytes. */
    static byte[] dubboHeader(int flag, long id, long bodyLength) {
        return ByteBuffer.allocate(16).putShort((short) 0xdabb).put((byte) flag).put((byte) 0).putLong(id)
                .putInt((int) bodyLength).array();
    }

    static byte[] dubboFrame(long id, byte[] body) {
        return ByteBuffer.allocate(16 + body.length).put(dubboHeader(DUBBO_TWOWAY, id, body.length)).put(body)
                .array();
    }

    /** Hessian2 compact string (length < 32). */
    static void hString(ByteArrayOutputStream o, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        if (b.length < 32) {
            o.write(b.length);
        } else {
            o.write('S');
            o.write(b.length >> 8);
            o.write(b.length);
        }
        o.writeBytes(b);
    }

    /** The four leading strings and the descriptor of a {@code DemoService:1.0.0#sayHello(Object)} request. */
    static ByteArrayOutputStream dubboLeading(String service) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        hString(o, "2.0.2");
        hString(o, service);
        hString(o, "1.0.0");
        hString(o, "sayHello");
        hString(o, "Ljava/lang/Object;");
        return o;
    }

    /** Attachments {@code group=g1, path=service} as an untyped map. */
    static void dubboAttachments(ByteArrayOutputStream o, String service) {
        o.write('H');
        hString(o, "group");
        hString(o, "g1");
        hString(o, "path");
        hString(o, service);
        o.write('Z');
    }

    /** A body whose argument is {@code depth} nested untyped lists ({@code W ... Z}), then valid attachments. */
    static byte[] dubboNestedBody(String service, int depth) {
        ByteArrayOutputStream o = dubboLeading(service);
        for (int i = 0; i < depth; i++) {
            o.write('W');
        }
        for (int i = 0; i < depth; i++) {
            o.write('Z');
        }
        dubboAttachments(o, service);
        return o.toByteArray();
    }

    /** A body whose argument, a binary chunk, declares 65535 bytes where a handful follow; then attachments. */
    static byte[] dubboLengthPastEnd(String service) {
        ByteArrayOutputStream o = dubboLeading(service);
        o.write('B');
        o.write(0xff);
        o.write(0xff);
        o.writeBytes(new byte[] {1, 2, 3, 4});
        dubboAttachments(o, service);
        return o.toByteArray();
    }

    /** A body whose service string declares 60000 bytes. */
    static byte[] dubboServiceLengthPastEnd() {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        hString(o, "2.0.2");
        o.write('S');
        o.write(60000 >> 8);
        o.write(60000 & 0xff);
        o.writeBytes("com.example".getBytes(StandardCharsets.US_ASCII));
        return o.toByteArray();
    }

    // ---- HTTP/2 (RFC 9113 section 4.1 frames, RFC 7541 literal header fields without Huffman)

    static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    static final int DATA = 0;
    static final int HEADERS = 1;
    static final int RST_STREAM = 3;
    static final int SETTINGS = 4;
    static final int PING = 6;
    static final int GOAWAY = 7;
    static final int CONTINUATION = 9;
    static final int END_STREAM = 0x1;
    static final int END_HEADERS = 0x4;

    static void frame(ByteArrayOutputStream o, int type, int flags, int stream, byte[] payload) {
        int n = payload.length;
        o.write(n >> 16);
        o.write(n >> 8);
        o.write(n);
        o.write(type);
        o.write(flags);
        o.writeBytes(ByteBuffer.allocate(4).putInt(stream & 0x7fffffff).array());
        o.writeBytes(payload);
    }

    static byte[] frame(int type, int flags, int stream, byte[] payload) {
        ByteArrayOutputStream o = new ByteArrayOutputStream(9 + payload.length);
        frame(o, type, flags, stream, payload);
        return o.toByteArray();
    }

    /** Preface plus an empty SETTINGS frame. */
    static byte[] h2Start() {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        o.writeBytes(PREFACE);
        frame(o, SETTINGS, 0, 0, new byte[0]);
        return o.toByteArray();
    }

    /** An HPACK block for {@code GET path} on {@code authority}: indexed :method GET and :scheme http, literals. */
    static byte[] hpackGet(String authority, String path) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        o.write(0x82); // :method GET
        o.write(0x86); // :scheme http
        literal(o, 4, path); // :path (name index 4), without indexing
        literal(o, 1, authority); // :authority (name index 1)
        return o.toByteArray();
    }

    private static void literal(ByteArrayOutputStream o, int nameIndex, String value) {
        o.write(nameIndex); // 0000xxxx: literal without indexing, indexed name (index < 15)
        byte[] v = value.getBytes(StandardCharsets.US_ASCII);
        if (v.length >= 127) {
            throw new IllegalArgumentException("value too long for this encoder");
        }
        o.write(v.length);
        o.writeBytes(v);
    }

    static byte[] rstStream(int stream, int code) {
        return frame(RST_STREAM, 0, stream, ByteBuffer.allocate(4).putInt(code).array());
    }

    /** One frame read from a server: type, flags, stream, payload. */
    record H2Frame(int type, int flags, int stream, byte[] payload) {
        /** For GOAWAY: the error code. */
        int goAwayError() {
            return ByteBuffer.wrap(payload).getInt(4);
        }

        String goAwayDebug() {
            return new String(payload, 8, payload.length - 8, StandardCharsets.UTF_8);
        }
    }

    static H2Frame readFrame(InputStream in) throws IOException {
        DataInputStream d = new DataInputStream(in);
        byte[] h = new byte[9];
        d.readFully(h);
        int len = (h[0] & 0xff) << 16 | (h[1] & 0xff) << 8 | h[2] & 0xff;
        byte[] p = new byte[len];
        d.readFully(p);
        return new H2Frame(h[3] & 0xff, h[4] & 0xff, ByteBuffer.wrap(h, 5, 4).getInt() & 0x7fffffff, p);
    }
}
