package io.remora.examples.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.channel.EventLoopGroup;
import io.remora.examples.SofaDefaults;
import io.remora.examples.http.HelloHttpProvider;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * The fleet-scale cells behind {@code bench/run.sh --upgrade} and {@code --soak SECONDS}: mixed Bolt, Dubbo, HTTP/1.1
 * keep-alive, h2c and gRPC traffic from real clients through one sidecar process, open-loop at a fraction of the
 * mixed capacity measured first.
 * <ul>
 *   <li>{@code --upgrade}: {@code --connections} live downstream connections (split over Bolt, Dubbo, HTTP/1.1 and
 *   h2) handed to a new process {@code --upgrades} times in a row; per upgrade the time to ready, to the old process's
 *   exit and the hand-over as the upgrade status reports it, connections migrated / drained, failed requests.</li>
 *   <li>{@code --soak}: a rule change every {@code --rule-every} seconds and an upgrade every {@code --upgrade-every};
 *   RSS, heap after GC, direct memory, descriptors and request counts sampled every {@code --sample-every} seconds
 *   into soak.csv (plotted by bench/plot.py); pass = no failed request, no leak report, memory flat (the linear fit's
 *   drift over the run within noise).</li>
 * </ul>
 */
public final class Fleet {

    enum Kind { bolt, dubbo, http1, h2, grpc }

    static final String USAGE = """
            usage: Fleet (--upgrade | --soak SECONDS) [--out DIR] [--remora-home DIR] [--sidecar-opts "JVM flags"]
                         [--connections N] [--load F] [--rate R]
              --upgrade          N live connections (default 1000, split over bolt, dubbo, http1, h2; gRPC adds 8)
                                 under load handed to a new process --upgrades times in a row (default 20)
              --soak SECONDS     mixed traffic with --rule-every S (60) rule changes and --upgrade-every S (600)
                                 upgrades, sampled every --sample-every S (10)
              --load F           open-loop rate as a fraction of the mixed capacity measured first (default 0.5)
              --rate R           a fixed rate per protocol instead (requests/s)""";

    record Settings(String mode, int connections, double load, double fixedRate, int upgrades, double soakSeconds,
                    double ruleEvery, double upgradeEvery, double sampleEvery, Path out, Path remoraHome,
                    String sidecarOpts) {
    }

    /** One upgrade's figures. */
    record Upgrade(int n, long readyMillis, long oldExitMillis, long handoverMillis, int migrated, int drained,
                   int failedConnections, long failedRequests, int oldExitCode) {
    }

    /** One soak sample. */
    record Sample(double seconds, long pid, long rssKb, long heapAfterGcBytes, long heapUsedBytes, long directBytes,
                  long fds, long ok, long failed, double ratePerSecond, long p99Micros, int upgrades, int ruleChanges) {
    }

    /** What a run found (tests look at this, never at the figures). */
    record Result(List<Upgrade> upgrades, List<Sample> samples, long ok, long failed, List<String> errors,
                  List<String> leakReports, String verdict, boolean pass) {
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient ADMIN = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private final Settings s;
    private final PrintStream log;
    private final List<Load> loads = new ArrayList<>();
    private final List<Upgrade> upgrades = new ArrayList<>();
    private final List<Sample> samples = new ArrayList<>();
    private Path work;
    private Path config;
    private int adminPort;
    private volatile SidecarProcess current;
    private int ruleChanges;

    private Fleet(Settings s, PrintStream log) {
        this.s = s;
        this.log = log;
    }

    public static void main(String[] args) throws Exception {
        Settings s = parse(args);
        if (s == null) {
            System.out.println(USAGE);
            return;
        }
        Result r = run(s, System.out);
        System.exit(r.pass() ? 0 : 1);
    }

    static Settings parse(String[] args) {
        String mode = null;
        int connections = 1000;
        double load = 0.5;
        double rate = -1;
        int ups = 20;
        double soak = 0;
        double ruleEvery = 60;
        double upgradeEvery = 600;
        double sampleEvery = 10;
        Path out = null;
        Path home = null;
        String opts = "";
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--upgrade" -> mode = "upgrade";
                case "--soak" -> {
                    mode = "soak";
                    soak = Double.parseDouble(args[++i]);
                }
                case "--connections" -> connections = Integer.parseInt(args[++i]);
                case "--load" -> load = Double.parseDouble(args[++i]);
                case "--rate" -> rate = Double.parseDouble(args[++i]);
                case "--upgrades" -> ups = Integer.parseInt(args[++i]);
                case "--rule-every" -> ruleEvery = Double.parseDouble(args[++i]);
                case "--upgrade-every" -> upgradeEvery = Double.parseDouble(args[++i]);
                case "--sample-every" -> sampleEvery = Double.parseDouble(args[++i]);
                case "--out" -> out = Path.of(args[++i]);
                case "--remora-home" -> home = Path.of(args[++i]);
                case "--sidecar-opts" -> opts = args[++i];
                case "-h", "--help" -> {
                    return null;
                }
                default -> throw new IllegalArgumentException("unknown argument " + args[i] + "\n" + USAGE);
            }
        }
        if (mode == null) {
            throw new IllegalArgumentException("--upgrade or --soak SECONDS\n" + USAGE);
        }
        if (connections < 4 || load <= 0 || load > 1 || ups < 0 || sampleEvery <= 0) {
            throw new IllegalArgumentException("--connections >= 4, 0 < --load <= 1, --upgrades >= 0, --sample-every > 0");
        }
        if (out == null) {
            out = Path.of("bench/results", mode + "-"
                    + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        }
        return new Settings(mode, connections, load, rate, ups, soak, ruleEvery, upgradeEvery, sampleEvery, out, home,
                opts);
    }

    static Result run(Settings s, PrintStream log) throws Exception {
        return new Fleet(s, log).run();
    }

    private Result run() throws Exception {
        SofaDefaults.apply();
        Runtime.getRuntime().addShutdownHook(new Thread(() ->
                ProcessHandle.current().descendants().forEach(ProcessHandle::destroy), "fleet-cleanup"));
        Files.createDirectories(s.out);
        work = Files.createTempDirectory("remora-fleet");
        int boltPort = LoadHarness.freePort();
        int dubboPort = LoadHarness.freePort();
        int grpcPort = LoadHarness.freePort();
        List<AutoCloseable> closeables = new ArrayList<>();
        EventLoopGroup group = HttpCallers.newGroup(2);
        try (HelloHttpProvider http = HelloHttpProvider.start(0)) {
            closeables.add(RpcCallers.boltProvider(boltPort));
            closeables.add(RpcCallers.dubboProvider(dubboPort));
            closeables.add(HttpCallers.grpcOrigin(grpcPort));
            adminPort = LoadHarness.freePort();
            int[] listeners = {LoadHarness.freePort(), LoadHarness.freePort(), LoadHarness.freePort()};
            config = work.resolve("fleet.json");
            Files.writeString(config, config(listeners, boltPort, dubboPort, http.port(), grpcPort));
            current = SidecarProcess.start(s.remoraHome, config, work, adminPort, s.sidecarOpts);
            log.printf("fleet: sidecar pid %d ready; opening connections (load average %s)%n", current.pid(),
                    Probe.loadAverage());
            int each = s.connections / 4;
            loads.add(new Load(Kind.bolt, RpcCallers.bolt(listeners[0], each, 1024)));
            loads.add(new Load(Kind.dubbo, RpcCallers.dubbo(listeners[1], each, 1024)));
            loads.add(new Load(Kind.http1, HttpCallers.http1(group, listeners[2], each, "/hello")));
            loads.add(new Load(Kind.h2, HttpCallers.http2(group, listeners[2], each, "/hello", null)));
            loads.add(new Load(Kind.grpc, HttpCallers.http2(group, listeners[2], 8, "/bench.Echo/Call",
                    new byte[1024])));
            closeables.addAll(loads);
            long conns = new Probe(current.pid()).openFds();
            log.printf("fleet: %d downstream connections requested, sidecar holds %d descriptors%n",
                    4L * each + 8, conns);
            setRates();
            loads.forEach(Load::start);
            Thread.sleep(3000); // steady state before the first measurement
            if (s.mode.equals("upgrade")) {
                for (int i = 1; i <= s.upgrades; i++) {
                    upgrade(i);
                    Thread.sleep(1500);
                }
            } else {
                soak();
            }
            loads.forEach(Load::stop);
            Thread.sleep(500);
        } finally {
            for (int i = closeables.size() - 1; i >= 0; i--) {
                try {
                    closeables.get(i).close();
                } catch (Exception e) {
                    log.println("fleet: closing: " + e);
                }
            }
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            if (current != null) {
                current.close();
            }
        }
        return report();
    }

    /** Open-loop rates: a fixed one, or a fraction of what the mix does closed-loop for a few seconds. */
    private void setRates() throws Exception {
        if (s.fixedRate > 0) {
            loads.forEach(l -> l.rate = s.fixedRate);
            return;
        }
        List<Thread> probes = new ArrayList<>();
        for (Load l : loads) {
            Thread t = new Thread(() -> {
                try {
                    Drive.closed(l.caller, Math.min(64, Math.max(8, s.connections / 16)), 0, 1);
                    Drive.Outcome o = Drive.closed(l.caller, Math.min(64, Math.max(8, s.connections / 16)), 0, 4);
                    l.capacity = o.throughput();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "fleet-capacity-" + l.kind);
            t.start();
            probes.add(t);
        }
        for (Thread t : probes) {
            t.join();
        }
        StringBuilder sb = new StringBuilder();
        for (Load l : loads) {
            l.rate = Math.max(10, l.capacity * s.load);
            sb.append(String.format(Locale.ROOT, " %s %.0f/s (capacity %.0f)", l.kind, l.rate, l.capacity));
        }
        log.println("fleet: open-loop rates at " + Math.round(s.load * 100) + "% of the mixed capacity:" + sb);
    }

    private void upgrade(int n) throws Exception {
        SidecarProcess old = current;
        long failedBefore = failed();
        long t0 = System.nanoTime();
        SidecarProcess next = SidecarProcess.start(s.remoraHome, config, work, adminPort, s.sidecarOpts, true);
        long ready = System.nanoTime();
        current = next;
        int code = old.awaitExit(60_000);
        long exited = System.nanoTime();
        if (code < 0) {
            log.println("fleet: the old process did not exit within 60 s:\n" + old.outputTail());
            old.close();
        }
        JsonNode st = admin("/api/v1/upgrade");
        Thread.sleep(1000); // replies in flight at the switch land before the count
        Upgrade u = new Upgrade(n, ms(ready - t0), ms(exited - t0), st.path("duration_ms").asLong(-1),
                st.path("connections").path("migrated").asInt(-1), st.path("connections").path("drained").asInt(-1),
                st.path("connections").path("failed").asInt(-1), failed() - failedBefore, code);
        upgrades.add(u);
        log.printf(Locale.ROOT, "upgrade %2d: ready %5d ms, old exited after %5d ms (code %d), hand-over %5d ms, "
                        + "migrated %4d, drained %4d, failed connections %d, failed requests %d (load avg %s)%n",
                n, u.readyMillis, u.oldExitMillis, code, u.handoverMillis, u.migrated, u.drained, u.failedConnections,
                u.failedRequests, Probe.loadAverage());
    }

    private void soak() throws Exception {
        long t0 = System.nanoTime();
        long end = t0 + (long) (s.soakSeconds * 1e9);
        long nextSample = t0;
        long nextRule = t0 + (long) (s.ruleEvery * 1e9);
        long nextUpgrade = t0 + (long) (s.upgradeEvery * 1e9);
        long lastOk = ok();
        long lastAt = t0;
        while (System.nanoTime() < end) {
            long now = System.nanoTime();
            if (now >= nextSample) {
                long okNow = ok();
                double rate = (okNow - lastOk) / ((now - lastAt) / 1e9);
                lastOk = okNow;
                lastAt = now;
                sample((now - t0) / 1e9, rate);
                nextSample += (long) (s.sampleEvery * 1e9);
            }
            if (s.ruleEvery > 0 && now >= nextRule) {
                changeRules();
                nextRule += (long) (s.ruleEvery * 1e9);
            }
            if (s.upgradeEvery > 0 && now >= nextUpgrade && now + 20e9 < end) {
                upgrade(upgrades.size() + 1);
                nextUpgrade += (long) (s.upgradeEvery * 1e9);
            }
            Thread.sleep(100);
        }
        sample((System.nanoTime() - t0) / 1e9, (ok() - lastOk) / ((System.nanoTime() - lastAt) / 1e9));
    }

    private void sample(double seconds, double rate) {
        SidecarProcess p = current;
        Probe probe = new Probe(p.pid());
        long[] mem = probe.memoryKb();
        long heapAfterGc = -1;
        long heapUsed = -1;
        long direct = -1;
        try {
            String scrape = adminText("/stats/prometheus");
            heapAfterGc = (long) metric(scrape, "jvm_gc_live_data_size_bytes", null);
            heapUsed = (long) metric(scrape, "jvm_memory_used_bytes", "area=\"heap\"");
            direct = (long) metric(scrape, "remora_netty_direct_memory_used_bytes", null);
        } catch (Exception e) {
            log.println("fleet: scrape failed: " + e);
        }
        Histogram h = new Histogram(3);
        for (Load l : loads) {
            h.add(l.interval.getIntervalHistogram());
        }
        Sample smp = new Sample(seconds, p.pid(), mem[0], heapAfterGc, heapUsed, direct, probe.openFds(), ok(),
                failed(), rate, h.getTotalCount() == 0 ? -1 : h.getValueAtPercentile(99), upgrades.size(), ruleChanges);
        samples.add(smp);
        log.printf(Locale.ROOT, "t=%6.0f s  RSS %6.1f MB  heap after GC %6.1f MB  direct %5.1f MB  fds %5d  "
                        + "%7.0f req/s  p99 %6d us  ok %d  failed %d%n", seconds, mem[0] / 1024.0, heapAfterGc / 1048576.0,
                direct / 1048576.0, smp.fds, rate, smp.p99Micros, smp.ok, smp.failed);
    }

    /** Replaces the rate-limit rules (generous thresholds: they are looked up on every call, never reject). */
    private void changeRules() throws Exception {
        ruleChanges++;
        String body = """
                [{"name":"soak-%d","direction":"client","service":"*","type":"qps","threshold":%d}]"""
                .formatted(ruleChanges, 1_000_000 + ruleChanges);
        HttpResponse<String> r = ADMIN.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort
                        + "/api/v1/rules/rate_limit")).PUT(HttpRequest.BodyPublishers.ofString(body))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            log.println("fleet: rule change refused: " + r.statusCode() + " " + r.body());
        }
    }

    private Result report() throws IOException {
        long ok = ok();
        long failed = failed();
        List<String> errors = new ArrayList<>();
        for (Load l : loads) {
            errors.addAll(l.errors);
        }
        List<String> leaks = leakReports();
        List<String> problems = new ArrayList<>();
        if (failed > 0) {
            problems.add(failed + " failed requests");
        }
        if (!leaks.isEmpty()) {
            problems.add(leaks.size() + " leak reports");
        }
        StringBuilder md = new StringBuilder();
        md.append("# Fleet cell: ").append(s.mode).append("\n\n");
        md.append(String.format(Locale.ROOT, "- %s, %d downstream connections (+8 gRPC), load %s, load average at "
                        + "end %s, sidecar JVM extra flags: %s%n", LocalDateTime.now(), s.connections,
                s.fixedRate > 0 ? s.fixedRate + " req/s per protocol" : Math.round(s.load * 100) + "% of capacity",
                Probe.loadAverage(), s.sidecarOpts.isBlank() ? "(launcher defaults)" : s.sidecarOpts));
        md.append("- rates:");
        for (Load l : loads) {
            md.append(String.format(Locale.ROOT, " %s %.0f/s", l.kind, l.rate));
        }
        md.append(String.format(Locale.ROOT, "%n- requests ok %d, failed %d, client reconnects %d%n", ok, failed,
                loads.stream().mapToLong(l -> l.caller.reconnects()).sum()));
        md.append("- leak reports in the sidecar logs: ").append(leaks.size()).append('\n');
        if (!upgrades.isEmpty()) {
            md.append("\n| upgrade | ready (ms) | old exited (ms) | hand-over (ms) | migrated | drained | failed conns "
                    + "| failed requests |\n|---|---|---|---|---|---|---|---|\n");
            for (Upgrade u : upgrades) {
                md.append(String.format(Locale.ROOT, "| %d | %d | %d | %d | %d | %d | %d | %d |%n", u.n, u.readyMillis,
                        u.oldExitMillis, u.handoverMillis, u.migrated, u.drained, u.failedConnections,
                        u.failedRequests));
                if (u.oldExitCode != 0) {
                    problems.add("upgrade " + u.n + ": old process exit code " + u.oldExitCode);
                }
            }
            long worst = upgrades.stream().mapToLong(Upgrade::oldExitMillis).max().orElse(0);
            md.append(String.format(Locale.ROOT, "%nworst time from the new process's start to the old one's exit: "
                    + "%d ms (goal <= 5000)%n", worst));
        }
        if (!samples.isEmpty()) {
            writeSamples();
            String rss = drift("RSS", samples.stream().mapToDouble(x -> x.rssKb * 1024.0).toArray());
            String heap = drift("heap after GC", samples.stream().mapToDouble(x -> x.heapAfterGcBytes).toArray());
            String direct = drift("direct memory", samples.stream().mapToDouble(x -> x.directBytes).toArray());
            md.append("\n").append(rss).append("\n").append(heap).append("\n").append(direct).append("\n");
            for (String d : List.of(rss, heap, direct)) {
                if (d.contains("NOT flat")) {
                    problems.add(d);
                }
            }
            md.append("\nSamples: soak.csv; plot: soak.png (bench/plot.py).\n");
        }
        if (!errors.isEmpty()) {
            md.append("\nFirst errors:\n");
            errors.stream().limit(20).forEach(e -> md.append("- ").append(e).append('\n'));
        }
        String verdict = problems.isEmpty() ? "PASS" : "FAIL: " + String.join("; ", problems);
        md.append("\n**").append(verdict).append("**\n");
        Files.writeString(s.out.resolve("report.md"), md.toString());
        log.print(md);
        log.println("fleet: report in " + s.out.toAbsolutePath());
        return new Result(List.copyOf(upgrades), List.copyOf(samples), ok, failed, errors, leaks, verdict,
                problems.isEmpty());
    }

    /**
     * Least-squares drift of a series over the run, after the first fifth (warm-up: JIT, pools, first GCs): flat when
     * the fitted change over the run is under 2 x the residuals' standard deviation or under 5% of the mean.
     */
    static String drift(String what, double[] ys) {
        int from = ys.length / 5;
        int n = ys.length - from;
        if (n < 3) {
            return what + ": too few samples to fit";
        }
        double mx = 0;
        double my = 0;
        for (int i = from; i < ys.length; i++) {
            mx += i;
            my += ys[i];
        }
        mx /= n;
        my /= n;
        double sxy = 0;
        double sxx = 0;
        for (int i = from; i < ys.length; i++) {
            sxy += (i - mx) * (ys[i] - my);
            sxx += (i - mx) * (i - mx);
        }
        double slope = sxy / sxx;
        double ss = 0;
        for (int i = from; i < ys.length; i++) {
            double r = ys[i] - (my + slope * (i - mx));
            ss += r * r;
        }
        double sd = Math.sqrt(ss / Math.max(1, n - 2));
        double change = slope * (n - 1);
        boolean flat = Math.abs(change) <= Math.max(2 * sd, 0.05 * Math.abs(my));
        return String.format(Locale.ROOT, "- %s: mean %.1f MB, fitted change over the run %+.2f MB, residual sd "
                + "%.2f MB: %s", what, my / 1048576, change / 1048576, sd / 1048576, flat ? "flat" : "NOT flat");
    }

    private void writeSamples() throws IOException {
        StringBuilder csv = new StringBuilder("seconds,pid,rss_kb,heap_after_gc_bytes,heap_used_bytes,direct_bytes,"
                + "fds,ok,failed,rate_per_s,p99_us,upgrades,rule_changes\n");
        for (Sample x : samples) {
            csv.append(String.format(Locale.ROOT, "%.1f,%d,%d,%d,%d,%d,%d,%d,%d,%.1f,%d,%d,%d%n", x.seconds, x.pid,
                    x.rssKb, x.heapAfterGcBytes, x.heapUsedBytes, x.directBytes, x.fds, x.ok, x.failed,
                    x.ratePerSecond, x.p99Micros, x.upgrades, x.ruleChanges));
        }
        Files.writeString(s.out.resolve("soak.csv"), csv.toString());
    }

    /** Netty's leak reports ("LEAK:") in any log the sidecar processes wrote. */
    private List<String> leakReports() throws IOException {
        List<String> found = new ArrayList<>();
        try (var files = Files.walk(work)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                String name = f.getFileName().toString();
                if (!(name.endsWith(".log") || name.endsWith(".out"))) {
                    continue;
                }
                for (String line : Files.readAllLines(f, StandardCharsets.ISO_8859_1)) {
                    if (line.contains("LEAK:")) {
                        found.add(f.getFileName() + ": " + line);
                    }
                }
            }
        }
        return found;
    }

    private long ok() {
        return loads.stream().mapToLong(l -> l.ok.get()).sum();
    }

    private long failed() {
        return loads.stream().mapToLong(l -> l.failed.get()).sum();
    }

    private JsonNode admin(String path) throws Exception {
        return JSON.readTree(adminText(path));
    }

    private String adminText(String path) throws Exception {
        return ADMIN.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + path))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    /** The sum of a metric's samples in a Prometheus exposition (those whose labels contain {@code labels}). */
    static double metric(String scrape, String name, String labels) {
        double sum = 0;
        boolean any = false;
        for (String line : scrape.lines().toList()) {
            if (!line.startsWith(name) || line.length() == name.length()) {
                continue;
            }
            char c = line.charAt(name.length());
            if ((c != '{' && c != ' ') || (labels != null && !line.contains(labels))) {
                continue;
            }
            sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            any = true;
        }
        return any ? sum : -1;
    }

    private static long ms(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(nanos);
    }

    private String config(int[] listeners, int bolt, int dubbo, int http, int grpc) {
        String filters = """
                "filters":[{"type":"access_control"},{"type":"fault_inject"},{"type":"rate_limit"},
                           {"type":"circuit_breaker"}]""";
        return """
                {"admin": {"address": "127.0.0.1", "port": %d},
                 "log": {"dir": "%s", "level": "WARN"},
                 "listeners": [
                  {"name":"fleet_bolt","address":"127.0.0.1:%d","protocol":"bolt","direction":"outbound",%s,
                   "routes":[{"name":"all","match":{"service":"*"},"cluster":"bolt_provider","timeout_ms":10000}]},
                  {"name":"fleet_dubbo","address":"127.0.0.1:%d","protocol":"dubbo","direction":"outbound",%s,
                   "routes":[{"name":"all","match":{"service":"*"},"cluster":"dubbo_provider","timeout_ms":10000}]},
                  {"name":"fleet_http","address":"127.0.0.1:%d","protocol":"http","direction":"outbound",%s,
                   "routes":[{"name":"grpc","match":{"prefix":"/bench.Echo/"},"cluster":"grpc_origin","timeout_ms":10000},
                             {"name":"all","match":{"prefix":"/"},"cluster":"http_origin","timeout_ms":10000}]}],
                 "clusters": [
                  {"name":"bolt_provider","hosts":[{"address":"127.0.0.1:%d"}]},
                  {"name":"dubbo_provider","hosts":[{"address":"127.0.0.1:%d"}]},
                  {"name":"http_origin","hosts":[{"address":"127.0.0.1:%d"}]},
                  {"name":"grpc_origin","hosts":[{"address":"127.0.0.1:%d"}]}],
                 "extensions": {"upgrade": {"dir": "%s", "drain_timeout_ms": 10000},
                                "governance": {"rate_limit": [], "circuit_breaker": [], "fault_inject": [],
                                               "access_control": []}}}
                """.formatted(adminPort, work.resolve("logs").toAbsolutePath(), listeners[0], filters, listeners[1],
                filters, listeners[2], filters, bolt, dubbo, http, grpc, work.toAbsolutePath());
    }

    /** One protocol's open-loop driver: a paced thread, counts, an interval histogram, the first errors. */
    private final class Load implements AutoCloseable {
        private static final int MAX_OUTSTANDING = 20_000;
        final Kind kind;
        final AsyncCaller caller;
        final AtomicLong ok = new AtomicLong();
        final AtomicLong failed = new AtomicLong();
        final AtomicLong outstanding = new AtomicLong();
        final Recorder interval = new Recorder(3);
        final ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
        volatile double rate;
        double capacity;
        private volatile boolean stop;
        private Thread thread;

        Load(Kind kind, AsyncCaller caller) {
            this.kind = kind;
            this.caller = caller;
        }

        void start() {
            thread = new Thread(this::drive, "fleet-" + kind);
            thread.setDaemon(true);
            thread.start();
        }

        private void drive() {
            long t0 = System.nanoTime();
            double period = 1e9 / rate;
            for (long i = 0; !stop; i++) {
                long intended = t0 + (long) (i * period);
                long wait;
                while ((wait = intended - System.nanoTime()) > 0) {
                    LockSupport.parkNanos(Math.min(wait, 1_000_000));
                }
                if (outstanding.incrementAndGet() > MAX_OUTSTANDING) {
                    outstanding.decrementAndGet();
                    fail("client backlog over " + MAX_OUTSTANDING);
                    continue;
                }
                caller.call(new AsyncCaller.Done() {
                    @Override
                    public void ok() {
                        interval.recordValue(Math.max(1, (System.nanoTime() - intended) / 1000));
                        ok.incrementAndGet();
                        outstanding.decrementAndGet();
                    }

                    @Override
                    public void failed(Throwable cause) {
                        fail(String.valueOf(cause));
                        outstanding.decrementAndGet();
                    }
                });
            }
        }

        private void fail(String why) {
            if (failed.incrementAndGet() <= 20) {
                errors.add(kind + " at " + LocalDateTime.now() + ": " + why);
            }
        }

        void stop() {
            stop = true;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
            while (outstanding.get() > 0 && System.nanoTime() < deadline) {
                LockSupport.parkNanos(5_000_000);
            }
        }

        @Override
        public void close() {
            caller.close();
        }
    }
}
