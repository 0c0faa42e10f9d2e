package io.remora.examples.bench;

import io.remora.examples.SofaDefaults;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;

/**
 * Drives the same closed-loop load straight at a provider and through a sidecar in front of it, and prints both side
 * by side: throughput, latency percentiles, and the sidecar's resident memory.
 *
 * <pre>scripts/bench.sh --connections 4 --concurrency 32 --duration 10 --payload 128</pre>
 */
public final class LoadHarness {

    private LoadHarness() {
    }

    /** One target's numbers. Latencies in microseconds. */
    public record Result(String target, long requests, long errors, double seconds, Histogram latencyMicros,
                         String firstError) {
        public double throughput() {
            return requests / seconds;
        }
    }

    /** The whole run: direct and via-sidecar results, the sidecar's memory (kB, -1 if unknown). */
    public record Report(LoadSettings settings, Result direct, Result viaSidecar, long sidecarPid, long sidecarRssKb,
                         long sidecarPeakRssKb) {
    }

    public static void main(String[] args) throws Exception {
        LoadSettings settings;
        try {
            if (List.of(args).contains("--help") || List.of(args).contains("-h")) {
                System.out.println(LoadSettings.USAGE);
                return;
            }
            settings = LoadSettings.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("LoadHarness: " + e.getMessage() + "\n" + LoadSettings.USAGE);
            System.exit(64);
            return;
        }
        Report r = run(settings, System.out);
        print(r, System.out);
        boolean failed = r.direct.requests == 0 || r.viaSidecar.requests == 0;
        System.exit(failed ? 1 : 0);
    }

    /** Starts the provider and the sidecar process, measures both targets, stops everything. */
    public static Report run(LoadSettings s, PrintStream log) throws Exception {
        SofaDefaults.apply();
        LoadMode mode = LoadMode.byName(s.mode());
        Path work = Files.createTempDirectory("remora-bench");
        int providerPort = freePort();
        int listenerPort = freePort();
        int adminPort = freePort();
        Path config = work.resolve("remora-bench.json");
        Files.writeString(config, sidecarConfig(mode, listenerPort, providerPort, adminPort, work.resolve("logs")));

        try (AutoCloseable provider = mode.startProvider(providerPort, s.payloadBytes())) {
            log.printf("provider: %s on 127.0.0.1:%d%n", mode.name(), providerPort);
            try (SidecarProcess sidecar = SidecarProcess.start(s.remoraHome(), config, work, adminPort)) {
                log.printf("sidecar: pid %d, listener 127.0.0.1:%d -> provider, admin 127.0.0.1:%d, work dir %s%n",
                        sidecar.pid(), listenerPort, adminPort, work);
                Result direct = measure("direct", mode, new InetSocketAddress("127.0.0.1", providerPort), s, log);
                Result via = measure("via sidecar", mode, new InetSocketAddress("127.0.0.1", listenerPort), s, log);
                long[] mem = sidecar.memoryKb();
                Report report = new Report(s, direct, via, sidecar.pid(), mem[0], mem[1]);
                if (direct.errors() == 0 && via.errors() == 0) {
                    deleteOnExit(work);
                }
                return report;
            }
        }
    }

    /** The work dir holds the sidecar's logs; kept when something failed, removed once the sidecar has stopped. */
    private static void deleteOnExit(Path dir) throws IOException {
        try (var files = Files.walk(dir)) {
            // deleteOnExit runs in reverse registration order: register parents first
            files.forEach(f -> f.toFile().deleteOnExit());
        }
    }

    static String sidecarConfig(LoadMode mode, int listenerPort, int providerPort, int adminPort, Path logDir) {
        return """
                {
                  "admin": {"address": "127.0.0.1", "port": %d},
                  "log": {"dir": "%s", "level": "ERROR"},
                  "listeners": [{
                    "name": "bench_%s", "address": "127.0.0.1:%d", "protocol": "%s", "direction": "outbound",
                    "routes": [{"name": "all", "match": {"service": "*"}, "cluster": "bench_provider", "timeout_ms": 5000}]
                  }],
                  "clusters": [{"name": "bench_provider", "hosts": [{"address": "127.0.0.1:%d"}]}]
                }
                """.formatted(adminPort, logDir.toAbsolutePath().toString().replace("\\", "\\\\"), mode.name(),
                listenerPort, mode.listenerProtocol(), providerPort);
    }

    /** Warm-up, then {@code concurrency} threads each calling in a closed loop for the measured duration. */
    static Result measure(String target, LoadMode mode, InetSocketAddress address, LoadSettings s, PrintStream log)
            throws Exception {
        try (LoadMode.Caller caller = mode.connect(address, s.connections(), s.payloadBytes())) {
            if (s.warmupSeconds() > 0) {
                log.printf("%s: warming up %.1f s%n", target, s.warmupSeconds());
                drive(target, caller, s.concurrency(), s.warmupSeconds());
            }
            log.printf("%s: measuring %.1f s with %d connection(s), %d caller(s)%n", target, s.durationSeconds(),
                    s.connections(), s.concurrency());
            return drive(target, caller, s.concurrency(), s.durationSeconds());
        }
    }

    private static Result drive(String target, LoadMode.Caller caller, int concurrency, double seconds) throws InterruptedException {
        long durationNanos = (long) (seconds * 1e9);
        Histogram all = newHistogram();
        AtomicLong errors = new AtomicLong();
        StringBuffer firstError = new StringBuffer();
        List<Histogram> perThread = new ArrayList<>();
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        long[] window = new long[1];
        for (int i = 0; i < concurrency; i++) {
            Histogram h = newHistogram();
            perThread.add(h);
            Thread t = new Thread(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    return;
                }
                long end = window[0] + durationNanos;
                long now = System.nanoTime();
                while (now < end) {
                    try {
                        caller.call();
                        long done = System.nanoTime();
                        h.recordValue(Math.max(1, (done - now) / 1000));
                        now = done;
                    } catch (Exception e) {
                        if (errors.getAndIncrement() == 0) {
                            firstError.append(e);
                        }
                        now = System.nanoTime();
                    }
                }
            }, "load-" + i);
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
        window[0] = System.nanoTime();
        start.countDown();
        long joinDeadline = window[0] + durationNanos + TimeUnit.SECONDS.toNanos(30);
        for (Thread t : threads) {
            t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(joinDeadline - System.nanoTime())));
        }
        double elapsed = (System.nanoTime() - window[0]) / 1e9;
        perThread.forEach(all::add);
        return new Result(target, all.getTotalCount(), errors.get(), elapsed, all,
                firstError.isEmpty() ? null : firstError.toString());
    }

    private static Histogram newHistogram() {
        // 1 us .. 60 s, 3 significant digits
        return new Histogram(60_000_000L, 3);
    }

    static void print(Report r, PrintStream out) {
        LoadSettings s = r.settings();
        out.println();
        out.printf(Locale.ROOT, "mode=%s connections=%d concurrency=%d payload=%d B warmup=%.1f s duration=%.1f s%n",
                s.mode(), s.connections(), s.concurrency(), s.payloadBytes(), s.warmupSeconds(), s.durationSeconds());
        out.printf(Locale.ROOT, "%-12s %12s %10s %10s %10s %10s %8s%n", "target", "req/s", "p50 us", "p99 us",
                "p999 us", "max us", "errors");
        for (Result x : List.of(r.direct(), r.viaSidecar())) {
            Histogram h = x.latencyMicros();
            out.printf(Locale.ROOT, "%-12s %12.1f %10d %10d %10d %10d %8d%n", x.target(), x.throughput(),
                    h.getValueAtPercentile(50), h.getValueAtPercentile(99), h.getValueAtPercentile(99.9),
                    h.getMaxValue(), x.errors());
        }
        if (r.direct().requests() > 0 && r.viaSidecar().requests() > 0) {
            out.printf(Locale.ROOT, "sidecar hop: p50 %+d us, p99 %+d us, throughput %.0f%% of direct%n",
                    r.viaSidecar().latencyMicros().getValueAtPercentile(50)
                            - r.direct().latencyMicros().getValueAtPercentile(50),
                    r.viaSidecar().latencyMicros().getValueAtPercentile(99)
                            - r.direct().latencyMicros().getValueAtPercentile(99),
                    100 * r.viaSidecar().throughput() / r.direct().throughput());
        }
        out.printf(Locale.ROOT, "sidecar memory (pid %d): RSS %s, peak RSS %s%n", r.sidecarPid(),
                mb(r.sidecarRssKb()), mb(r.sidecarPeakRssKb()));
        for (Result x : List.of(r.direct(), r.viaSidecar())) {
            if (x.firstError() != null) {
                out.printf("first error %s: %s%n", x.target(), x.firstError());
            }
        }
    }

    private static String mb(long kb) {
        return kb < 0 ? "n/a" : String.format(Locale.ROOT, "%.1f MB", kb / 1024.0);
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
