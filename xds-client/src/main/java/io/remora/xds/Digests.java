package io.remora.xds;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.Message;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;

/**
 * The config digest a control plane can compare: sha256 over, for each resource sorted by name, the UTF-8 name, a zero
 * byte, the 4-byte big-endian length and the deterministic protobuf serialization of the resource.
 */
final class Digests {

    private Digests() {
    }

    static String sha256(Map<String, ? extends Message> resources) {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        for (Map.Entry<String, ? extends Message> e : new TreeMap<String, Message>(resources).entrySet()) {
            md.update(e.getKey().getBytes(StandardCharsets.UTF_8));
            md.update((byte) 0);
            byte[] b = canonical(e.getValue());
            md.update(new byte[] {(byte) (b.length >>> 24), (byte) (b.length >>> 16), (byte) (b.length >>> 8),
                (byte) b.length});
            md.update(b);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    static byte[] canonical(Message m) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream(m.getSerializedSize());
            CodedOutputStream c = CodedOutputStream.newInstance(out);
            c.useDeterministicSerialization();
            m.writeTo(c);
            c.flush();
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
