package io.remora.bolt;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * The class, header and content of a SOFARPC error response, {@code SofaResponse{isError=true, errorMsg=...}}
 * (protocols.md §1.7b), written in sofa-hessian's 2.0-draft grammar exactly as a SOFARPC server writes it. Only the
 * message varies, so everything else is a constant byte template.
 */
final class SofaErrorBody {

    static final String RESPONSE_CLASS = "com.alipay.sofa.rpc.core.response.SofaResponse";
    /** Longer messages are cut (at a code point boundary) so one {@code 'S'} chunk always holds them. */
    static final int MAX_MESSAGE_UNITS = 8192;

    static final byte[] CLASS_BYTES = RESPONSE_CLASS.getBytes(StandardCharsets.US_ASCII);
    /** {@code sofa_head_response_error = "true"} in SimpleMapSerializer form. */
    static final byte[] HEADER_BYTES = simpleMapPair(BoltFrame.HEADER_RESPONSE_ERROR, "true");
    /** Class definition, then {@code 'o' #0} and {@code isError = true}; errorMsg follows. */
    private static final byte[] CONTENT_PREFIX = contentPrefix();
    /** {@code appResponse = null, responseProps = null}. */
    private static final byte[] CONTENT_SUFFIX = {'N', 'N'};

    private SofaErrorBody() {
    }

    /** Bytes {@link #write} will produce for {@code message}. */
    static int contentLength(String message) {
        String m = clip(message);
        int bytes = cesu8Length(m);
        return CONTENT_PREFIX.length + (m.length() < 32 ? 1 : 3) + bytes + CONTENT_SUFFIX.length;
    }

    /** Writes the content for {@code message} (already counted by {@link #contentLength}). */
    static void write(ByteBuf out, String message) {
        String m = clip(message);
        out.writeBytes(CONTENT_PREFIX);
        int units = m.length();
        if (units < 32) {
            out.writeByte(units); // compact string: the length byte is the tag
        } else {
            out.writeByte('S');
            out.writeShort(units);
        }
        writeCesu8(out, m);
        out.writeBytes(CONTENT_SUFFIX);
    }

    static String clip(String message) {
        String m = message == null ? "" : message;
        if (m.length() <= MAX_MESSAGE_UNITS) {
            return m;
        }
        int end = MAX_MESSAGE_UNITS;
        if (Character.isHighSurrogate(m.charAt(end - 1))) {
            end--; // never split a surrogate pair
        }
        return m.substring(0, end);
    }

    /** Hessian strings count UTF-16 units and encode each unit alone (surrogates as 3 bytes each: CESU-8). */
    static int cesu8Length(String s) {
        int n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            n += c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
        }
        return n;
    }

    private static void writeCesu8(ByteBuf out, String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                out.writeByte(c);
            } else if (c < 0x800) {
                out.writeByte(0xc0 | (c >> 6));
                out.writeByte(0x80 | (c & 0x3f));
            } else {
                out.writeByte(0xe0 | (c >> 12));
                out.writeByte(0x80 | ((c >> 6) & 0x3f));
                out.writeByte(0x80 | (c & 0x3f));
            }
        }
    }

    private static byte[] simpleMapPair(String key, String value) {
        byte[] k = key.getBytes(StandardCharsets.UTF_8);
        byte[] v = value.getBytes(StandardCharsets.UTF_8);
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(8 + k.length + v.length);
        b.putInt(k.length).put(k).putInt(v.length).put(v);
        return b.array();
    }

    private static byte[] contentPrefix() {
        java.io.ByteArrayOutputStream o = new java.io.ByteArrayOutputStream();
        o.write('O');
        o.write(0x90 + CLASS_BYTES.length); // compact int: 46 -> 0xbe
        o.writeBytes(CLASS_BYTES);
        o.write(0x94); // 4 fields
        for (String field : new String[] {"isError", "errorMsg", "appResponse", "responseProps"}) {
            o.write(field.length());
            o.writeBytes(field.getBytes(StandardCharsets.US_ASCII));
        }
        o.write('o');
        o.write(0x90); // instance of class definition #0
        o.write('T'); // isError = true
        return o.toByteArray();
    }
}
