package io.remora.core.digest;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;

/**
 * Formats an entry as one digest line, in UTF-8, straight into a byte array: no strings, no builders. The
 * {@code yyyy-MM-dd HH:mm:ss} part is computed once per second (that may allocate) and copied for every line in it.
 * Writer thread only (the second cache is not shared).
 */
final class DigestFormat {

    /** Longer field values are cut here, so a line has a known upper size (see {@link #MAX_LINE}). */
    static final int MAX_FIELD_CHARS = 512;
    /** 12 text fields of at most 3 bytes a char (a surrogate pair: 4 bytes for 2 chars), separators, numbers. */
    static final int MAX_LINE = 12 * (MAX_FIELD_CHARS * 3 + 2) + 128;

    private final ZoneId zone;
    private long second = Long.MIN_VALUE;
    private final byte[] secondText = new byte[19];

    DigestFormat(ZoneId zone) {
        this.zone = zone;
    }

    /**
     * Writes the line for {@code e} and its newline at {@code p}, which must have {@link #MAX_LINE} bytes of room.
     *
     * @return the position after the newline
     */
    int format(DigestLog.Entry e, byte[] b, int p) {
        long ms = e.timeMillis;
        long sec = Math.floorDiv(ms, 1000);
        if (sec != second) {
            formatSecond(sec);
        }
        System.arraycopy(secondText, 0, b, p, secondText.length);
        p += secondText.length;
        b[p++] = '.';
        p = digits3(b, p, (int) Math.floorMod(ms, 1000));
        b[p++] = ',';
        p = field(b, p, e.app);
        p = field(b, p, e.traceId);
        p = field(b, p, e.rpcId);
        p = field(b, p, e.service);
        p = field(b, p, e.method);
        p = field(b, p, e.protocol);
        p = field(b, p, e.callType);
        p = field(b, p, e.targetAddress);
        p = field(b, p, e.targetApp);
        p = field(b, p, e.resultCode);
        p = number(b, p, e.requestBytes);
        b[p++] = ',';
        p = number(b, p, e.responseBytes);
        b[p++] = ',';
        long total = Math.max(0, e.totalMicros);
        p = number(b, p, total / 1000);
        b[p++] = '.';
        p = digits3(b, p, (int) (total % 1000));
        b[p++] = ',';
        p = number(b, p, e.proxyMicros);
        b[p++] = ',';
        p = text(b, p, e.callerIp);
        b[p++] = '\n';
        return p;
    }

    private void formatSecond(long sec) {
        LocalDateTime t = LocalDateTime.ofInstant(Instant.ofEpochSecond(sec), zone);
        byte[] s = secondText;
        int y = t.getYear();
        s[0] = digit(y / 1000);
        s[1] = digit(y / 100);
        s[2] = digit(y / 10);
        s[3] = digit(y);
        s[4] = '-';
        two(s, 5, t.getMonthValue());
        s[7] = '-';
        two(s, 8, t.getDayOfMonth());
        s[10] = ' ';
        two(s, 11, t.getHour());
        s[13] = ':';
        two(s, 14, t.getMinute());
        s[16] = ':';
        two(s, 17, t.getSecond());
        second = sec;
    }

    private static byte digit(int v) {
        return (byte) ('0' + Math.floorMod(v, 10));
    }

    private static void two(byte[] b, int p, int v) {
        b[p] = digit(v / 10);
        b[p + 1] = digit(v);
    }

    private static int digits3(byte[] b, int p, int v) {
        b[p] = digit(v / 100);
        b[p + 1] = digit(v / 10);
        b[p + 2] = digit(v);
        return p + 3;
    }

    /** Decimal {@code v}, like {@code Long.toString} without the string. */
    static int number(byte[] b, int p, long v) {
        if (v < 0) {
            if (v == Long.MIN_VALUE) {
                return number(b, number(b, p, v / 10), -(v % 10)); // "-922...80" then "8"
            }
            b[p++] = '-';
            v = -v;
        }
        int end = p + digitCount(v);
        int i = end;
        do {
            b[--i] = (byte) ('0' + (int) (v % 10));
            v /= 10;
        } while (v != 0);
        return end;
    }

    private static int digitCount(long v) {
        int n = 1;
        while (v >= 10) {
            v /= 10;
            n++;
        }
        return n;
    }

    /** {@code v} then a comma. */
    private static int field(byte[] b, int p, String v) {
        p = text(b, p, v);
        b[p++] = ',';
        return p;
    }

    /** {@code v} in UTF-8, {@code -} when null or empty; commas and line breaks become {@code _} to keep one line. */
    static int text(byte[] b, int p, String v) {
        if (v == null || v.isEmpty()) {
            b[p++] = '-';
            return p;
        }
        int n = Math.min(v.length(), MAX_FIELD_CHARS);
        for (int i = 0; i < n; i++) {
            char c = v.charAt(i);
            if (c < 0x80) {
                b[p++] = (byte) (c == ',' || c == '\n' || c == '\r' ? '_' : c);
            } else if (c < 0x800) {
                b[p++] = (byte) (0xC0 | c >> 6);
                b[p++] = (byte) (0x80 | c & 0x3F);
            } else if (Character.isSurrogate(c)) {
                char low;
                if (Character.isHighSurrogate(c) && i + 1 < v.length()
                        && Character.isLowSurrogate(low = v.charAt(i + 1))) {
                    int cp = Character.toCodePoint(c, low);
                    b[p++] = (byte) (0xF0 | cp >> 18);
                    b[p++] = (byte) (0x80 | cp >> 12 & 0x3F);
                    b[p++] = (byte) (0x80 | cp >> 6 & 0x3F);
                    b[p++] = (byte) (0x80 | cp & 0x3F);
                    i++;
                } else {
                    b[p++] = '?'; // a lone surrogate, as String.getBytes(UTF_8) writes it
                }
            } else {
                b[p++] = (byte) (0xE0 | c >> 12);
                b[p++] = (byte) (0x80 | c >> 6 & 0x3F);
                b[p++] = (byte) (0x80 | c & 0x3F);
            }
        }
        return p;
    }
}
