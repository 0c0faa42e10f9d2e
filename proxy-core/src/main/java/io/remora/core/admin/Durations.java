package io.remora.core.admin;

/** Durations as the dumps spell them: protobuf JSON ({@code "1.500s"}) for Envoy, Go's time.Duration for MOSN. */
final class Durations {

    private Durations() {
    }

    /** Protobuf JSON Duration: seconds with 0, 3 (ms) decimals, then {@code s}. */
    static String proto(long millis) {
        long s = millis / 1000;
        long ms = Math.abs(millis % 1000);
        return ms == 0 ? s + "s" : String.format(java.util.Locale.ROOT, "%d.%03ds", s, ms);
    }

    /** Go's {@code time.Duration.String()} for whole milliseconds: {@code 500ms}, {@code 5s}, {@code 1m30s}. */
    static String go(long millis) {
        if (millis == 0) {
            return "0s";
        }
        if (Math.abs(millis) < 1000) {
            return millis + "ms";
        }
        StringBuilder sb = new StringBuilder();
        long rest = millis;
        if (rest < 0) {
            sb.append('-');
            rest = -rest;
        }
        long h = rest / 3_600_000;
        long m = rest / 60_000 % 60;
        long sec = rest / 1000 % 60;
        long ms = rest % 1000;
        if (h > 0) {
            sb.append(h).append('h');
        }
        if (h > 0 || m > 0) {
            sb.append(m).append('m');
        }
        sb.append(sec);
        if (ms > 0) {
            sb.append('.').append(String.format(java.util.Locale.ROOT, "%03d", ms).replaceAll("0+$", ""));
        }
        return sb.append('s').toString();
    }
}
