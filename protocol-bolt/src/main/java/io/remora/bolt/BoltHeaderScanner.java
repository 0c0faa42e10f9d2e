package io.remora.bolt;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.function.BiConsumer;

/**
 * Reads SOFARPC's {@code SimpleMapSerializer} header blob (protocols.md §1.3) in place: {@code (int32 len, bytes)}
 * key/value pairs until the blob ends; a negative length is a null string with no bytes, and a pair with a null key
 * or value is skipped. Nothing is copied to find a key. Every length is checked against the end of the blob, and a
 * malformed blob reads as "no headers" instead of throwing.
 */
final class BoltHeaderScanner {

    /** Returned by {@link #find} when the key is absent (or the header is malformed). */
    static final long ABSENT = -1L;

    private BoltHeaderScanner() {
    }

    /** True if the pairs exactly fill [start, end) with every length in bounds. */
    static boolean isWellFormed(ByteBuf buf, int start, int end) {
        int pos = start;
        while (pos < end) {
            pos = skipString(buf, pos, end);
            if (pos < 0) {
                return false;
            }
            pos = skipString(buf, pos, end);
            if (pos < 0) {
                return false;
            }
        }
        return true;
    }

    /**
     * Finds the value of {@code key} (UTF-8 bytes) in [start, end). Returns {@code (valueStart << 32) | valueLen},
     * or {@link #ABSENT}. The caller checks {@link #isWellFormed} first.
     */
    static long find(ByteBuf buf, int start, int end, String key) {
        for (int i = 0; i < key.length(); i++) {
            if (key.charAt(i) >= 0x80) {
                return find(buf, start, end, utf8(key));
            }
        }
        return find(buf, start, end, null, key);
    }

    static long find(ByteBuf buf, int start, int end, byte[] key) {
        return find(buf, start, end, key, null);
    }

    /** Exactly one of {@code key} (UTF-8) and {@code asciiKey} is non-null; the ASCII form avoids encoding the name. */
    private static long find(ByteBuf buf, int start, int end, byte[] key, String asciiKey) {
        int keyLen = key != null ? key.length : asciiKey.length();
        int pos = start;
        while (pos + 4 <= end) {
            int kl = buf.getInt(pos);
            int keyStart = pos + 4;
            pos = skipString(buf, pos, end);
            if (pos < 0 || pos + 4 > end) {
                return ABSENT;
            }
            int vl = buf.getInt(pos);
            int valueStart = pos + 4;
            pos = skipString(buf, pos, end);
            if (pos < 0) {
                return ABSENT;
            }
            if (kl == keyLen && vl >= 0
                    && (key != null ? equalsAt(buf, keyStart, key) : equalsAt(buf, keyStart, asciiKey))) {
                return ((long) valueStart << 32) | vl;
            }
        }
        return ABSENT;
    }

    /** Visits every non-null pair in [start, end). The caller checks {@link #isWellFormed} first. */
    static void forEach(ByteBuf buf, int start, int end, BiConsumer<String, String> visitor) {
        int pos = start;
        while (pos + 4 <= end) {
            int kl = buf.getInt(pos);
            int keyStart = pos + 4;
            pos = skipString(buf, pos, end);
            if (pos < 0 || pos + 4 > end) {
                return;
            }
            int vl = buf.getInt(pos);
            int valueStart = pos + 4;
            pos = skipString(buf, pos, end);
            if (pos < 0) {
                return;
            }
            if (kl >= 0 && vl >= 0) {
                visitor.accept(string(buf, keyStart, kl), string(buf, valueStart, vl));
            }
        }
    }

    static String value(ByteBuf buf, long found) {
        return found == ABSENT ? null : string(buf, (int) (found >>> 32), (int) found);
    }

    static String string(ByteBuf buf, int start, int len) {
        return len == 0 ? "" : buf.toString(start, len, StandardCharsets.UTF_8);
    }

    /** Skips one length-prefixed string at {@code pos}; returns the next position, or -1 if it overruns {@code end}. */
    private static int skipString(ByteBuf buf, int pos, int end) {
        if (end - pos < 4) {
            return -1;
        }
        int len = buf.getInt(pos);
        pos += 4;
        if (len <= 0) {
            return pos; // null (negative) or empty: no bytes follow
        }
        return len > end - pos ? -1 : pos + len;
    }

    private static boolean equalsAt(ByteBuf buf, int index, byte[] key) {
        for (int i = 0; i < key.length; i++) {
            if (buf.getByte(index + i) != key[i]) {
                return false;
            }
        }
        return true;
    }

    private static boolean equalsAt(ByteBuf buf, int index, String asciiKey) {
        for (int i = 0; i < asciiKey.length(); i++) {
            if (buf.getByte(index + i) != (byte) asciiKey.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
