package io.remora.dubbo;

import io.netty.buffer.ByteBuf;

/** Writes Hessian2 strings the way hessian-lite does: UTF-8 per UTF-16 unit, chunks of 32768 units. */
final class Hessian2Strings {

    private static final int CHUNK = 0x8000;

    private Hessian2Strings() {
    }

    static int encodedLength(String s) {
        int len = s.length();
        int n = 0;
        int off = 0;
        while (len - off > CHUNK) {
            n += 3 + utf8Length(s, off, off + CHUNK);
            off += CHUNK;
        }
        int rest = len - off;
        n += rest < 32 ? 1 : rest < 1024 ? 2 : 3;
        return n + utf8Length(s, off, len);
    }

    static void write(ByteBuf b, String s) {
        int len = s.length();
        int off = 0;
        while (len - off > CHUNK) {
            b.writeByte('R');
            b.writeShort(CHUNK);
            writeUnits(b, s, off, off + CHUNK);
            off += CHUNK;
        }
        int rest = len - off;
        if (rest < 32) {
            b.writeByte(rest);
        } else if (rest < 1024) {
            b.writeByte(0x30 + (rest >> 8));
            b.writeByte(rest & 0xFF);
        } else {
            b.writeByte('S');
            b.writeShort(rest);
        }
        writeUnits(b, s, off, len);
    }

    private static int utf8Length(String s, int from, int to) {
        int n = 0;
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            n += c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
        }
        return n;
    }

    private static void writeUnits(ByteBuf b, String s, int from, int to) {
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                b.writeByte(c);
            } else if (c < 0x800) {
                b.writeByte(0xC0 | (c >> 6));
                b.writeByte(0x80 | (c & 0x3F));
            } else {
                b.writeByte(0xE0 | (c >> 12));
                b.writeByte(0x80 | ((c >> 6) & 0x3F));
                b.writeByte(0x80 | (c & 0x3F));
            }
        }
    }
}
