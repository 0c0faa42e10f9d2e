package io.remora.dubbo;

import io.netty.buffer.ByteBuf;
import io.remora.core.protocol.Utf8Cache;

/**
 * A streaming Hessian 2.0 reader over a region of a {@link ByteBuf} (protocols.md §2.7): it skips values without
 * materialising them, never loads classes, never copies the body, and reads only the few strings it is asked for.
 * Every length is checked against {@link #end} before it is used and nesting depth is bounded, so a hostile body ends in
 * a {@link HessianFormatException}, never in an unchecked exception or a read past the end.
 *
 * <p>State: the field counts of the class definitions seen so far (instances refer to them by index). One cursor walks
 * one body; not thread-safe.
 */
final class Hessian2Cursor {

    static final int MAX_DEPTH = 128;

    private final ByteBuf buf;
    private final int end;
    private int pos;
    private int depth;
    private static final int[] NO_CLASSES = new int[0];

    /** Field counts of class definitions, allocated on the first one (the leading strings never need it). */
    private int[] classFields = NO_CLASSES;
    private int classCount;

    /** Walks {@code buf} from absolute index {@code start} (inclusive) to {@code end} (exclusive). */
    Hessian2Cursor(ByteBuf buf, int start, int end) {
        if (start < 0 || end < start || end > buf.capacity()) {
            throw new IllegalArgumentException("bad region [" + start + ", " + end + ") of a buffer of " + buf.capacity());
        }
        this.buf = buf;
        this.pos = start;
        this.end = end;
    }

    int position() {
        return pos;
    }

    int end() {
        return end;
    }

    boolean atEnd() {
        return pos >= end;
    }

    // ---- primitives

    private int u8() throws HessianFormatException {
        if (pos >= end) {
            throw fail("unexpected end of body");
        }
        return buf.getUnsignedByte(pos++);
    }

    int peek() throws HessianFormatException {
        if (pos >= end) {
            throw fail("unexpected end of body");
        }
        return buf.getUnsignedByte(pos);
    }

    private void skipBytes(long n) throws HessianFormatException {
        if (n < 0 || n > end - pos) {
            throw fail("length " + n + " runs past the body end (" + (end - pos) + " bytes left)");
        }
        pos += (int) n;
    }

    private int u16() throws HessianFormatException {
        return (u8() << 8) | u8();
    }

    private int i32() throws HessianFormatException {
        return (u8() << 24) | (u8() << 16) | (u8() << 8) | u8();
    }

    HessianFormatException fail(String what) {
        return new HessianFormatException(what + " at body offset " + pos);
    }

    // ---- ints, strings, types

    /** Reads an int written in any of the compact int forms or {@code 'I'} (lengths, refs, type refs). */
    int readInt() throws HessianFormatException {
        int tag = u8();
        return intAfterTag(tag);
    }

    private int intAfterTag(int tag) throws HessianFormatException {
        if (tag >= 0x80 && tag <= 0xBF) {
            return tag - 0x90;
        }
        if (tag >= 0xC0 && tag <= 0xCF) {
            return ((tag - 0xC8) << 8) | u8();
        }
        if (tag >= 0xD0 && tag <= 0xD7) {
            return ((tag - 0xD4) << 16) | (u8() << 8) | u8();
        }
        if (tag == 'I') {
            return i32();
        }
        pos--;
        throw fail("expected an int, found tag 0x" + Integer.toHexString(tag));
    }

    /** A non-negative length or count. */
    private int readLength() throws HessianFormatException {
        int n = readInt();
        if (n < 0) {
            throw fail("negative length " + n);
        }
        return n;
    }

    private static boolean isStringTag(int tag) {
        return tag <= 0x1F || (tag >= 0x30 && tag <= 0x33) || tag == 'R' || tag == 'S';
    }

    /** Reads a string ({@code 'N'} gives null). Fails on any other value. */
    String readString() throws HessianFormatException {
        return readString(null);
    }

    /**
     * Like {@link #readString()}; a one-chunk ASCII string (as many bytes as characters) comes from {@code cache} when
     * not null, so names that repeat on a connection cost no allocation.
     */
    String readString(Utf8Cache cache) throws HessianFormatException {
        int tag = u8();
        if (tag == 'N') {
            return null;
        }
        if (!isStringTag(tag)) {
            pos--;
            throw fail("expected a string, found tag 0x" + Integer.toHexString(tag));
        }
        StringBuilder sb = null;
        for (;;) {
            int units;
            boolean last = true;
            if (tag <= 0x1F) {
                units = tag;
            } else if (tag <= 0x33) {
                units = ((tag - 0x30) << 8) | u8();
            } else {
                last = tag == 'S';
                units = u16();
            }
            int start = pos;
            int chunkEnd = skipUnits(units);
            if (last && sb == null) {
                if (cache != null && chunkEnd - start == units) {
                    return cache.get(buf, start, units);
                }
                return decode(start, chunkEnd, units, null).toString();
            }
            sb = decode(start, chunkEnd, units, sb == null ? new StringBuilder(units * 2) : sb);
            if (last) {
                return sb.toString();
            }
            tag = u8();
            if (!(tag <= 0x1F || (tag >= 0x30 && tag <= 0x33) || tag == 'R' || tag == 'S')) {
                pos--;
                throw fail("expected a string chunk, found tag 0x" + Integer.toHexString(tag));
            }
        }
    }

    /** Decodes UTF-8 (CESU-8 for surrogates, as hessian-lite writes them) already bounds-checked by skipUnits. */
    private StringBuilder decode(int from, int to, int units, StringBuilder into) {
        StringBuilder sb = into == null ? new StringBuilder(units) : into;
        int i = from;
        while (i < to) {
            int b = buf.getUnsignedByte(i);
            if (b < 0x80) {
                sb.append((char) b);
                i++;
            } else if ((b & 0xE0) == 0xC0) {
                sb.append((char) (((b & 0x1F) << 6) | (buf.getUnsignedByte(i + 1) & 0x3F)));
                i += 2;
            } else if ((b & 0xF0) == 0xE0) {
                sb.append((char) (((b & 0x0F) << 12) | ((buf.getUnsignedByte(i + 1) & 0x3F) << 6)
                        | (buf.getUnsignedByte(i + 2) & 0x3F)));
                i += 3;
            } else {
                int cp = ((b & 0x07) << 18) | ((buf.getUnsignedByte(i + 1) & 0x3F) << 12)
                        | ((buf.getUnsignedByte(i + 2) & 0x3F) << 6) | (buf.getUnsignedByte(i + 3) & 0x3F);
                sb.appendCodePoint(Character.isValidCodePoint(cp) ? cp : 0xFFFD);
                i += 4;
            }
        }
        return sb;
    }

    /** Skips {@code units} UTF-16 code units of UTF-8 bytes; returns the position after them. */
    private int skipUnits(int units) throws HessianFormatException {
        int p = pos;
        int left = units;
        while (left > 0) {
            if (p >= end) {
                pos = p;
                throw fail("string runs past the body end");
            }
            int b = buf.getUnsignedByte(p);
            int n;
            if (b < 0x80) {
                n = 1;
            } else if ((b & 0xE0) == 0xC0) {
                n = 2;
            } else if ((b & 0xF0) == 0xE0) {
                n = 3;
            } else if ((b & 0xF8) == 0xF0) {
                n = 4;
                left--; // a 4-byte sequence is a surrogate pair: two units (non-Java encoders write these)
            } else {
                pos = p;
                throw fail("invalid UTF-8 lead byte 0x" + Integer.toHexString(b));
            }
            if (n > end - p) {
                pos = p;
                throw fail("string runs past the body end");
            }
            p += n;
            left--;
        }
        pos = p;
        return p;
    }

    /** Skips a string whose tag was already read. */
    private void skipStringAfterTag(int tag) throws HessianFormatException {
        for (;;) {
            if (tag <= 0x1F) {
                skipUnits(tag);
                return;
            }
            if (tag <= 0x33) {
                skipUnits(((tag - 0x30) << 8) | u8());
                return;
            }
            skipUnits(u16());
            if (tag == 'S') {
                return;
            }
            tag = u8(); // after 'R' another chunk follows
            if (!isStringTag(tag)) {
                pos--;
                throw fail("expected a string chunk, found tag 0x" + Integer.toHexString(tag));
            }
        }
    }

    private void skipBinaryAfterTag(int tag) throws HessianFormatException {
        for (;;) {
            if (tag >= 0x20 && tag <= 0x2F) {
                skipBytes(tag - 0x20);
                return;
            }
            if (tag >= 0x34 && tag <= 0x37) {
                skipBytes(((tag - 0x34) << 8) | u8());
                return;
            }
            skipBytes(u16());
            if (tag == 'B') {
                return;
            }
            tag = u8(); // after 'A' another chunk follows
            if (!((tag >= 0x20 && tag <= 0x2F) || (tag >= 0x34 && tag <= 0x37) || tag == 'A' || tag == 'B')) {
                pos--;
                throw fail("expected a binary chunk, found tag 0x" + Integer.toHexString(tag));
            }
        }
    }

    /** A type is a string or an int type-ref. */
    private void skipType() throws HessianFormatException {
        int tag = u8();
        if (isStringTag(tag)) {
            skipStringAfterTag(tag);
        } else {
            intAfterTag(tag);
        }
    }

    // ---- values

    /** Skips one complete value, including any class definitions that precede it. */
    void skipValue() throws HessianFormatException {
        if (++depth > MAX_DEPTH) {
            throw fail("nesting deeper than " + MAX_DEPTH);
        }
        try {
            skipTagged(u8());
        } finally {
            depth--;
        }
    }

    private void skipTagged(int tag) throws HessianFormatException {
        if (tag <= 0x1F) {
            skipUnits(tag);
            return;
        }
        if (tag <= 0x2F) {
            skipBytes(tag - 0x20);
            return;
        }
        if (tag <= 0x33) {
            skipStringAfterTag(tag);
            return;
        }
        if (tag <= 0x37) {
            skipBinaryAfterTag(tag);
            return;
        }
        if (tag <= 0x3F) {
            skipBytes(2);
            return;
        }
        if (tag < 0x60) {
            skipLetterTag(tag);
            return;
        }
        if (tag <= 0x6F) {
            skipInstance(tag - 0x60);
            return;
        }
        if (tag <= 0x77) {
            skipType();
            skipValues(tag - 0x70);
            return;
        }
        if (tag <= 0x7F) {
            skipValues(tag - 0x78);
            return;
        }
        if (tag <= 0xBF) {
            return;
        }
        if (tag <= 0xCF) {
            skipBytes(1);
            return;
        }
        if (tag <= 0xD7) {
            skipBytes(2);
            return;
        }
        if (tag <= 0xEF) {
            return;
        }
        skipBytes(1); // 0xF0-0xFF: two-byte long
    }

    /** Tags 0x40-0x5F. */
    private void skipLetterTag(int tag) throws HessianFormatException {
        switch (tag) {
            case 'A', 'B' -> skipBinaryAfterTag(tag);
            case 'C' -> {
                readClassDef();
                skipValue(); // hessian-lite reads the definition and then the value that follows it
            }
            case 'D', 0x4A, 'L' -> skipBytes(8);
            case 'F', 'T', 'N', 0x5B, 0x5C -> { }
            case 'H' -> skipMapEntries();
            case 'I', 0x4B, 'Y', 0x5F -> skipBytes(4);
            case 'M' -> {
                skipType();
                skipMapEntries();
            }
            case 'O' -> skipInstance(readInt());
            case 'Q' -> readInt();
            case 'R', 'S' -> skipStringAfterTag(tag);
            case 'U' -> {
                skipType();
                skipUntilEnd();
            }
            case 'V' -> {
                skipType();
                skipValues(readLength());
            }
            case 'W' -> skipUntilEnd();
            case 'X' -> skipValues(readLength());
            case 0x5D -> skipBytes(1);
            case 0x5E -> skipBytes(2);
            default -> {
                pos--;
                throw fail("unexpected tag 0x" + Integer.toHexString(tag));
            }
        }
    }

    private void readClassDef() throws HessianFormatException {
        int tag = u8();
        if (!isStringTag(tag)) {
            pos--;
            throw fail("class definition without a name");
        }
        skipStringAfterTag(tag);
        int fields = readLength();
        for (int i = 0; i < fields; i++) {
            int t = u8();
            if (!isStringTag(t)) {
                pos--;
                throw fail("class field name is not a string");
            }
            skipStringAfterTag(t);
        }
        if (classCount == classFields.length) {
            int[] grown = new int[Math.max(8, classCount * 2)];
            System.arraycopy(classFields, 0, grown, 0, classCount);
            classFields = grown;
        }
        classFields[classCount++] = fields;
    }

    private void skipInstance(int classRef) throws HessianFormatException {
        if (classRef < 0 || classRef >= classCount) {
            throw fail("object refers to undefined class #" + classRef);
        }
        skipValues(classFields[classRef]);
    }

    /** Skips n values; each is at least one byte, so a huge n ends at the body end, not in a long loop. */
    private void skipValues(int n) throws HessianFormatException {
        for (int i = 0; i < n; i++) {
            skipValue();
        }
    }

    private void skipUntilEnd() throws HessianFormatException {
        while (peek() != 'Z') {
            skipValue();
        }
        pos++;
    }

    private void skipMapEntries() throws HessianFormatException {
        while (peek() != 'Z') {
            skipValue();
            skipValue();
        }
        pos++;
    }

    // ---- attachments

    /** Receives one map entry whose key is a string; value is null for null and non-scalar values. */
    interface EntryVisitor {
        void entry(String key, String value);
    }

    /**
     * Reads an attachments map ({@code 'H'} untyped or {@code 'M'} typed; {@code 'N'} is an empty map). String keys
     * with string, null, int, long, boolean or double values are reported (numbers as decimal text); entries with other
     * keys or values are skipped.
     */
    void readStringMap(EntryVisitor visitor) throws HessianFormatException {
        if (++depth > MAX_DEPTH) {
            throw fail("nesting deeper than " + MAX_DEPTH);
        }
        try {
            int tag = u8();
            if (tag == 'N') {
                return;
            }
            if (tag == 'M') {
                skipType();
            } else if (tag != 'H') {
                pos--;
                throw fail("attachments are not a map (tag 0x" + Integer.toHexString(tag) + ")");
            }
            while (peek() != 'Z') {
                String key = isStringTag(peek()) ? readString() : null;
                if (key == null) {
                    skipValue();
                    skipValue();
                    continue;
                }
                visitor.entry(key, readScalarAsString());
            }
            pos++;
        } finally {
            depth--;
        }
    }

    /** A scalar rendered as text; null for 'N' and for lists, maps and objects (which are skipped). */
    private String readScalarAsString() throws HessianFormatException {
        int tag = peek();
        if (tag == 'N') {
            pos++;
            return null;
        }
        if (isStringTag(tag)) {
            return readString();
        }
        if (tag == 'T' || tag == 'F') {
            pos++;
            return tag == 'T' ? "true" : "false";
        }
        if ((tag >= 0x80 && tag <= 0xD7) || tag == 'I') {
            return Integer.toString(readInt());
        }
        if ((tag >= 0xD8 && tag <= 0xFF) || (tag >= 0x38 && tag <= 0x3F) || tag == 'L' || tag == 'Y') {
            return Long.toString(readLong());
        }
        skipValue();
        return null;
    }

    private long readLong() throws HessianFormatException {
        int tag = u8();
        if (tag >= 0xD8 && tag <= 0xEF) {
            return tag - 0xE0;
        }
        if (tag >= 0xF0) {
            return ((tag - 0xF8) << 8) | u8();
        }
        if (tag >= 0x38 && tag <= 0x3F) {
            return ((tag - 0x3C) << 16) | (u8() << 8) | u8();
        }
        if (tag == 'Y') {
            return i32();
        }
        long hi = i32() & 0xFFFFFFFFL;
        return (hi << 32) | (i32() & 0xFFFFFFFFL);
    }

    // ---- descriptor

    /** Number of parameters in a JVM descriptor such as {@code Ljava/lang/String;[IJ} (empty = none). */
    static int countArguments(String desc) throws HessianFormatException {
        int n = 0;
        int i = 0;
        int len = desc.length();
        while (i < len) {
            char c = desc.charAt(i);
            while (c == '[') {
                if (++i >= len) {
                    throw new HessianFormatException("bad parameter descriptor \"" + desc + "\"");
                }
                c = desc.charAt(i);
            }
            if (c == 'L') {
                int semi = desc.indexOf(';', i);
                if (semi < 0) {
                    throw new HessianFormatException("bad parameter descriptor \"" + desc + "\"");
                }
                i = semi + 1;
            } else if ("VZBCDFIJS".indexOf(c) >= 0) {
                i++;
            } else {
                throw new HessianFormatException("bad parameter descriptor \"" + desc + "\"");
            }
            n++;
        }
        return n;
    }
}
