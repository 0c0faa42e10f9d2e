package io.remora.examples.bench;

import java.nio.file.Path;

/** What to run; parsed from the command line. */
record LoadSettings(String mode, int connections, int concurrency, double warmupSeconds, double durationSeconds,
                    int payloadBytes, Path remoraHome) {

    static final String USAGE = """
            usage: LoadHarness [--mode bolt] [--connections 4] [--concurrency 32] [--warmup 3] [--duration 10]
                               [--payload 128] [--remora-home dist/target/remora] [--smoke]
              --mode         protocol to drive (bolt)
              --connections  client connections per target (the sidecar keeps its own upstream connections)
              --concurrency  calling threads per target, each with one call in flight
              --warmup       seconds of unrecorded calls before each measurement
              --duration     seconds measured per target
              --payload      bytes of request and response body
              --remora-home  run the sidecar with <dir>/bin/remora; without it the sidecar runs from this class path
              --smoke        a two-second run that only proves the harness works""";

    static LoadSettings defaults() {
        return new LoadSettings("bolt", 4, 32, 3, 10, 128, null);
    }

    /** A short, light run: CI keeps the harness working with it; its numbers mean nothing. */
    LoadSettings smoke() {
        return new LoadSettings(mode, 1, 4, 0.5, 1, 64, remoraHome);
    }

    static LoadSettings parse(String[] args) {
        LoadSettings d = defaults();
        String mode = d.mode;
        int connections = d.connections;
        int concurrency = d.concurrency;
        double warmup = d.warmupSeconds;
        double duration = d.durationSeconds;
        int payload = d.payloadBytes;
        Path home = null;
        boolean smoke = false;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--smoke" -> smoke = true;
                case "--mode" -> mode = value(args, ++i, a);
                case "--connections" -> connections = positive(args, ++i, a);
                case "--concurrency" -> concurrency = positive(args, ++i, a);
                case "--warmup" -> warmup = seconds(args, ++i, a);
                case "--duration" -> duration = seconds(args, ++i, a);
                case "--payload" -> payload = positive(args, ++i, a);
                case "--remora-home" -> home = Path.of(value(args, ++i, a));
                default -> throw new IllegalArgumentException("unknown argument " + a);
            }
        }
        LoadMode.byName(mode);
        LoadSettings s = new LoadSettings(mode, connections, concurrency, warmup, duration, payload, home);
        return smoke ? s.smoke() : s;
    }

    private static String value(String[] args, int i, String flag) {
        if (i >= args.length) {
            throw new IllegalArgumentException(flag + " needs a value");
        }
        return args[i];
    }

    private static int positive(String[] args, int i, String flag) {
        int v = Integer.parseInt(value(args, i, flag));
        if (v <= 0) {
            throw new IllegalArgumentException(flag + " must be > 0, was " + v);
        }
        return v;
    }

    private static double seconds(String[] args, int i, String flag) {
        double v = Double.parseDouble(value(args, i, flag));
        if (v < 0 || v > 3600) {
            throw new IllegalArgumentException(flag + " must be between 0 and 3600 seconds, was " + v);
        }
        return v;
    }
}
