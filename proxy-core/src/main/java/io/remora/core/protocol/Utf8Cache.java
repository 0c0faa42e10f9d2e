package io.remora.core.protocol;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * Per-connection cache of recently decoded strings (class names, service, method, app header values): a connection
 * repeats the same few, so a hit compares bytes instead of allocating a String per request. Direct-mapped, immutable
 * entries: a racy reader on another thread sees an old or a new entry, both consistent, so no lock is needed. Meant for
 * values that repeat (names, versions, header keys), not for per-request ones (trace ids), which would only evict.
 */
public final class Utf8Cache {

    private static final int SLOTS = 16;
    private static final int MAX_LEN = 256;

    private record Entry(byte[] bytes, String text) {
    }

    /** Allocated on first use: an idle connection holds no table. */
    private Entry[] slots;

    /** The UTF-8 string at {@code [start, start + len)} of {@code buf}, from the cache when the bytes repeat. */
    public String get(ByteBuf buf, int start, int len) {
        if (len == 0) {
            return "";
        }
        if (len > MAX_LEN) {
            return buf.toString(start, len, StandardCharsets.UTF_8);
        }
        int h = len;
        for (int i = 0; i < len; i++) {
            h = 31 * h + buf.getByte(start + i);
        }
        int slot = (h ^ (h >>> 16)) & (SLOTS - 1);
        Entry[] table = slots;
        if (table == null) {
            table = new Entry[SLOTS];
            slots = table;
        }
        Entry e = table[slot];
        if (e != null && e.bytes.length == len && same(buf, start, e.bytes)) {
            return e.text;
        }
        byte[] copy = new byte[len];
        buf.getBytes(start, copy);
        String text = new String(copy, StandardCharsets.UTF_8);
        table[slot] = new Entry(copy, text);
        return text;
    }

    private static boolean same(ByteBuf buf, int start, byte[] bytes) {
        for (int i = 0; i < bytes.length; i++) {
            if (buf.getByte(start + i) != bytes[i]) {
                return false;
            }
        }
        return true;
    }
}
