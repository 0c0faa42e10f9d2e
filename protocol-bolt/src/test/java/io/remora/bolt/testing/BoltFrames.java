package io.remora.bolt.testing;

import com.alipay.remoting.serialization.SerializerManager;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * Hand-built Bolt frames for raw-socket tests (independent of the codec under test), and a blocking reader.
 * Layouts: protocols.md §1.2.
 */
public final class BoltFrames {

    private BoltFrames() {
    }

    /** Fields of a frame to build. {@code v2=false} ignores ver1/switch. */
    public record Spec(boolean v2, int ver1, int switchByte, int type, int cmd, int id, int timeoutOrStatus,
                       String className, Map<String, String> headers, byte[] content) {

        public static Spec request(int id, int timeout, String className, Map<String, String> headers,
                                   byte[] content) {
            return new Spec(false, 1, 0, 1, 1, id, timeout, className, headers, content);
        }

        public Spec v2(int ver1, int switchByte) {
            return new Spec(true, ver1, switchByte, type, cmd, id, timeoutOrStatus, className, headers, content);
        }

        public Spec oneway() {
            return new Spec(v2, ver1, switchByte, 2, cmd, id, timeoutOrStatus, className, headers, content);
        }
    }

    public static boolean crcPresent(byte[] frame) {
        return frame[0] == 2 && frame[1] == 2 && (frame[11] & 1) != 0;
    }

    public static byte[] build(Spec s) {
        byte[] cls = s.className() == null ? new byte[0] : s.className().getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream hdr = new ByteArrayOutputStream();
        if (s.headers() != null) {
            for (Map.Entry<String, String> e : s.headers().entrySet()) {
                writeString(hdr, e.getKey());
                writeString(hdr, e.getValue());
            }
        }
        byte[] h = hdr.toByteArray();
        byte[] content = s.content() == null ? new byte[0] : s.content();
        boolean request = s.type() != 0;
        boolean crc = s.v2() && s.ver1() == 2 && (s.switchByte() & 1) != 0;
        int fixed = (request ? 22 : 20) + (s.v2() ? 2 : 0);
        ByteBuffer b = ByteBuffer.allocate(fixed + cls.length + h.length + content.length + (crc ? 4 : 0));
        b.put((byte) (s.v2() ? 2 : 1));
        if (s.v2()) {
            b.put((byte) s.ver1());
        }
        b.put((byte) s.type()).putShort((short) s.cmd()).put((byte) 1).putInt(s.id()).put((byte) 1);
        if (s.v2()) {
            b.put((byte) s.switchByte());
        }
        if (request) {
            b.putInt(s.timeoutOrStatus());
        } else {
            b.putShort((short) s.timeoutOrStatus());
        }
        b.putShort((short) cls.length).putShort((short) h.length).putInt(content.length);
        b.put(cls).put(h).put(content);
        if (crc) {
            b.putInt(crc(b.array(), b.position()));
        }
        return b.array();
    }

    /** A v1 request for {@link BoltEchoServer}: class {@code java.lang.String}, bolt's Hessian2 body. */
    public static byte[] stringRequest(int id, int timeout, String payload) {
        return build(Spec.request(id, timeout, String.class.getName(), null, hessian(payload)));
    }

    public static byte[] hessian(Object o) {
        try {
            return SerializerManager.getSerializer(SerializerManager.Hessian2).serialize(o);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    public static <T> T unhessian(byte[] bytes) {
        try {
            return SerializerManager.getSerializer(SerializerManager.Hessian2).deserialize(bytes, null);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    public static int crc(byte[] frame, int len) {
        CRC32 c = new CRC32();
        c.update(frame, 0, len);
        return (int) c.getValue();
    }

    /** Reads one whole frame; throws {@link EOFException} at a clean end of stream. */
    public static byte[] read(InputStream in) throws IOException {
        DataInputStream d = new DataInputStream(in);
        int b0 = d.read();
        if (b0 < 0) {
            throw new EOFException("connection closed");
        }
        boolean v2 = b0 == 2;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(b0);
        int ver1 = 1;
        if (v2) {
            ver1 = d.readUnsignedByte();
            out.write(ver1);
        }
        int type = d.readUnsignedByte();
        out.write(type);
        int fixed = (type == 0 ? 20 : 22) + (v2 ? 2 : 0);
        byte[] rest = new byte[fixed - (v2 ? 3 : 2)];
        d.readFully(rest);
        out.write(rest);
        byte[] head = out.toByteArray();
        ByteBuffer hb = ByteBuffer.wrap(head);
        int classLen = hb.getShort(fixed - 8) & 0xffff;
        int headerLen = hb.getShort(fixed - 6) & 0xffff;
        int contentLen = hb.getInt(fixed - 4);
        boolean crc = v2 && ver1 == 2 && (head[11] & 1) != 0;
        byte[] body = new byte[classLen + headerLen + contentLen + (crc ? 4 : 0)];
        d.readFully(body);
        out.write(body);
        return out.toByteArray();
    }

    public static int id(byte[] frame) {
        return ByteBuffer.wrap(frame).getInt(frame[0] == 2 ? 6 : 5);
    }

    public static int timeoutOrStatus(byte[] frame) {
        ByteBuffer b = ByteBuffer.wrap(frame);
        int off = frame[0] == 2 ? 12 : 10;
        int type = frame[0] == 2 ? frame[2] : frame[1];
        return type == 0 ? b.getShort(off) & 0xffff : b.getInt(off);
    }

    public static int cmd(byte[] frame) {
        return ByteBuffer.wrap(frame).getShort(frame[0] == 2 ? 3 : 2);
    }

    public static int type(byte[] frame) {
        return frame[0] == 2 ? frame[2] : frame[1];
    }

    /** The content bytes of a frame (after class and header). */
    public static byte[] content(byte[] frame) {
        boolean v2 = frame[0] == 2;
        int fixed = (type(frame) == 0 ? 20 : 22) + (v2 ? 2 : 0);
        ByteBuffer b = ByteBuffer.wrap(frame);
        int classLen = b.getShort(fixed - 8) & 0xffff;
        int headerLen = b.getShort(fixed - 6) & 0xffff;
        int contentLen = b.getInt(fixed - 4);
        byte[] c = new byte[contentLen];
        System.arraycopy(frame, fixed + classLen + headerLen, c, 0, contentLen);
        return c;
    }

    private static void writeString(ByteArrayOutputStream o, String s) {
        if (s == null) {
            o.writeBytes(new byte[] {-1, -1, -1, -1});
            return;
        }
        byte[] u = s.getBytes(StandardCharsets.UTF_8);
        o.writeBytes(ByteBuffer.allocate(4).putInt(u.length).array());
        o.writeBytes(u);
    }
}
