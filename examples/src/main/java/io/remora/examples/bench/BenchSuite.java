package io.remora.examples.bench;

import io.netty.channel.EventLoopGroup;
import io.remora.examples.SofaDefaults;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * The benchmark suite behind bench/run.sh: every scenario (protocol x payload x connections) measured straight at the
 * provider, through the sidecar and, for HTTP, through nginx and haproxy, closed-loop (max throughput) and open-loop
 * (fixed rates at fractions of the direct capacity); plus the sidecar's CPU and allocation per request, its memory
 * idle / under load / with 10,000 idle connections, and its start-to-first-request time. Writes report.md,
 * results.csv and percentile distributions (for bench/plot.py) into the output directory.
 */
public final class BenchSuite {

    enum Proto { bolt, dubbo, http1, h2, grpc }

    /** One measured run. */
    record Row(String protocol, int payload, int connections, String load, String target, double rateTarget,
               Drive.Outcome out, double cpuMicrosPerReq, double allocBytesPerReq, double loopAllocBytesPerReq,
               long rssKb, String loadAvg) {
    }

    record Cell(Proto proto, int payload, int connections, boolean closed, List<Double> openFractions) {
    }

    record Settings(String mode, double warmup, double duration, List<Cell> cells, int idleConnections,
                    int startupRuns, Path out, Path remoraHome, String sidecarOpts) {
    }

    private final Settings s;
    private final PrintStream log;
    private final List<Row> rows = new ArrayList<>();
    private final Map<String, String> facts = new LinkedHashMap<>();

    private BenchSuite(Settings s, PrintStream log) {
        this.s = s;
        this.log = log;
    }

    static final String USAGE = """
            usage: BenchSuite [--quick | --full | --smoke] [--out DIR] [--remora-home DIR] [--only bolt,dubbo,http1,h2,grpc]
                              [--sidecar-opts "JVM flags"] [--warmup S] [--duration S]
                              [--cells 1024x64,...] [--closed-only] [--no-extras]
              --quick   a representative subset, a few minutes (default)
              --full    every protocol x payload (128 B, 1 KB, 64 KB) x connections (1, 64, 1000), closed-loop and
                        open-loop at 10/50/90% of direct capacity; long
              --smoke   tiny durations, two scenarios: proves the suite works
              --cells   keep only these payload x connections cells; --closed-only drops the open-loop rows;
                        --no-extras skips start-up timing and the idle-connections probe (for iterating)""";

    public static void main(String[] args) throws Exception {
        Settings s = parse(args);
        if (s == null) {
            System.out.println(USAGE);
            return;
        }
        new BenchSuite(s, System.out).run();
        System.exit(0);
    }

    static Settings parse(String[] args) {
        String mode = "quick";
        Path out = null;
        Path home = null;
        String only = null;
        String cellFilter = null;
        boolean noExtras = false;
        boolean closedOnly = false;
        String opts = "";
        double warmup = -1;
        double duration = -1;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--quick" -> mode = "quick";
                case "--full" -> mode = "full";
                case "--smoke" -> mode = "smoke";
                case "--out" -> out = Path.of(args[++i]);
                case "--remora-home" -> home = Path.of(args[++i]);
                case "--only" -> only = args[++i];
                case "--cells" -> cellFilter = args[++i];
                case "--no-extras" -> noExtras = true;
                case "--closed-only" -> closedOnly = true;
                case "--sidecar-opts" -> opts = args[++i];
                case "--warmup" -> warmup = Double.parseDouble(args[++i]);
                case "--duration" -> duration = Double.parseDouble(args[++i]);
                case "-h", "--help" -> {
                    return null;
                }
                default -> throw new IllegalArgumentException("unknown argument " + args[i] + "\n" + USAGE);
            }
        }
        if (out == null) {
            out = Path.of("bench/results", LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        }
        List<Double> fractions = List.of(0.1, 0.5, 0.9);
        List<Cell> cells = new ArrayList<>();
        Settings st;
        switch (mode) {
            case "smoke" -> {
                cells.add(new Cell(Proto.bolt, 128, 4, true, List.of(0.5)));
                cells.add(new Cell(Proto.http1, 128, 4, true, List.of()));
                st = new Settings(mode, 0.3, 0.7, cells, 200, 1, out, home, opts);
            }
            case "full" -> {
                for (Proto p : Proto.values()) {
                    for (int payload : List.of(128, 1024, 65536)) {
                        for (int conns : List.of(1, 64, 1000)) {
                            cells.add(new Cell(p, payload, conns, true, fractions));
                        }
                    }
                }
                st = new Settings(mode, 3, 10, cells, 10_000, 3, out, home, opts);
            }
            default -> {
                for (Proto p : Proto.values()) {
                    boolean all = p == Proto.bolt || p == Proto.http1;
                    cells.add(new Cell(p, 1024, 64, true, all ? fractions : List.of(0.5)));
                }
                cells.add(new Cell(Proto.bolt, 128, 1, true, List.of(0.5)));
                cells.add(new Cell(Proto.bolt, 65536, 64, true, List.of()));
                cells.add(new Cell(Proto.http1, 1024, 1000, true, List.of()));
                st = new Settings(mode, 2, 5, cells, 10_000, 1, out, home, opts);
            }
        }
        if (warmup >= 0 || duration > 0) {
            st = new Settings(st.mode, warmup >= 0 ? warmup : st.warmup, duration > 0 ? duration : st.duration,
                    st.cells, st.idleConnections, st.startupRuns, st.out, st.remoraHome, st.sidecarOpts);
        }
        if (only != null) {
            List<String> keep = List.of(only.split(","));
            st = new Settings(st.mode, st.warmup, st.duration,
                    st.cells.stream().filter(c -> keep.contains(c.proto.name())).toList(), st.idleConnections,
                    st.startupRuns, st.out, st.remoraHome, st.sidecarOpts);
        }
        if (cellFilter != null) { // e.g. "1024x64,65536x64": payload x connections
            List<String> keep = List.of(cellFilter.split(","));
            st = new Settings(st.mode, st.warmup, st.duration,
                    st.cells.stream().filter(c -> keep.contains(c.payload + "x" + c.connections)).toList(),
                    st.idleConnections, st.startupRuns, st.out, st.remoraHome, st.sidecarOpts);
        }
        if (closedOnly) {
            st = new Settings(st.mode, st.warmup, st.duration, st.cells.stream()
                    .map(c -> new Cell(c.proto, c.payload, c.connections, true, List.of())).toList(),
                    st.idleConnections, st.startupRuns, st.out, st.remoraHome, st.sidecarOpts);
        }
        if (noExtras) { // no start-up timing, no idle-connection probe: just the load cells
            st = new Settings(st.mode, st.warmup, st.duration, st.cells, 0, 0, st.out, st.remoraHome,
                    st.sidecarOpts);
        }
        return st;
    }

    /** Runs everything; returns the rows (tests look at them, never at the figures). */
    static List<Row> run(Settings s, PrintStream log) throws Exception {
        BenchSuite b = new BenchSuite(s, log);
        b.run();
        return b.rows;
    }

    private void run() throws Exception {
        SofaDefaults.apply();
        // interrupted runs must not leave the sidecar, nginx or haproxy behind
        Runtime.getRuntime().addShutdownHook(new Thread(() ->
                ProcessHandle.current().descendants().forEach(ProcessHandle::destroy), "bench-cleanup"));
        Files.createDirectories(s.out.resolve("hist"));
        Path work = Files.createTempDirectory("remora-suite");
        facts.put("mode", s.mode);
        facts.put("started", LocalDateTime.now().toString());
        facts.put("cpus", Integer.toString(Runtime.getRuntime().availableProcessors()));
        facts.put("load average at start", Probe.loadAverage());
        facts.put("CPU pinning", Pinning.describe());
        facts.put("sidecar JVM extra flags", s.sidecarOpts.isBlank() ? "(launcher defaults)" : s.sidecarOpts);
        startup(work);
        List<Integer> payloads = s.cells.stream().map(Cell::payload).distinct().toList();
        int boltPort = LoadHarness.freePort();
        int dubboPort = LoadHarness.freePort();
        int grpcPort = LoadHarness.freePort();
        boolean http = s.cells.stream().anyMatch(c -> c.proto.ordinal() >= Proto.http1.ordinal());
        boolean peersOk = http && Peers.available();
        if (http && !peersOk) {
            log.println("bench: nginx/haproxy not installed: HTTP scenarios run without the peers and without origin");
        }
        EventLoopGroup clientGroup = HttpCallers.newGroup(2);
        List<AutoCloseable> closeables = new ArrayList<>();
        try {
            closeables.add(RpcCallers.boltProvider(boltPort));
            if (s.cells.stream().anyMatch(c -> c.proto == Proto.dubbo)) {
                closeables.add(RpcCallers.dubboProvider(dubboPort));
            }
            Peers peers = null;
            if (peersOk) {
                closeables.add(HttpCallers.grpcOrigin(grpcPort));
                peers = new Peers(grpcPort);
                closeables.add(peers);
                peers.start(work, payloads);
            }
            int adminPort = LoadHarness.freePort();
            Map<Proto, Integer> listeners = new LinkedHashMap<>();
            for (Proto p : List.of(Proto.bolt, Proto.dubbo, Proto.http1)) {
                listeners.put(p, LoadHarness.freePort());
            }
            Path config = work.resolve("suite.json");
            Files.writeString(config, sidecarConfig(adminPort, work, listeners, boltPort, dubboPort,
                    peers == null ? LoadHarness.freePort() : peers.originH1, grpcPort));
            try (SidecarProcess sidecar = SidecarProcess.start(s.remoraHome, config, work, adminPort, s.sidecarOpts);
                 Probe probe = new Probe(sidecar.pid()).attachJvm()) {
                long[] idle = probe.memoryKb();
                facts.put("sidecar RSS idle after start (MB)", mb(idle[0]));
                for (Cell c : s.cells) {
                    if (c.proto.ordinal() >= Proto.http1.ordinal() && peers == null) {
                        continue;
                    }
                    runCell(c, clientGroup, peers, probe, boltPort, dubboPort, grpcPort, listeners);
                }
                long[] mem = probe.memoryKb();
                facts.put("sidecar RSS after load (MB)", mb(mem[0]));
                facts.put("sidecar peak RSS during load (MB)", mb(mem[1]));
            }
        } finally {
            for (int i = closeables.size() - 1; i >= 0; i--) {
                try {
                    closeables.get(i).close();
                } catch (Exception e) {
                    log.println("bench: closing: " + e);
                }
            }
            clientGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
        facts.put("load average at end", Probe.loadAverage());
        Report.write(s.out, facts, rows);
        log.println("bench: report in " + s.out.toAbsolutePath());
    }

    private void runCell(Cell c, EventLoopGroup group, Peers peers, Probe probe, int boltPort, int dubboPort,
                         int grpcPort, Map<Proto, Integer> listeners) throws Exception {
        Map<String, Integer> targets = new LinkedHashMap<>();
        Map<String, Probe> probes = new LinkedHashMap<>();
        probes.put("remora", probe);
        switch (c.proto) {
            case bolt -> {
                targets.put("direct", boltPort);
                targets.put("remora", listeners.get(Proto.bolt));
            }
            case dubbo -> {
                targets.put("direct", dubboPort);
                targets.put("remora", listeners.get(Proto.dubbo));
            }
            case http1 -> {
                targets.put("direct", peers.originH1);
                targets.put("remora", listeners.get(Proto.http1));
                targets.put("nginx", peers.nginxH1);
                targets.put("haproxy", peers.haproxyH1);
            }
            case h2 -> {
                targets.put("direct", peers.originH2);
                targets.put("remora", listeners.get(Proto.http1));
                targets.put("nginx", peers.nginxH2);
                targets.put("haproxy", peers.haproxyH2);
            }
            case grpc -> {
                targets.put("direct", grpcPort);
                targets.put("remora", listeners.get(Proto.http1));
                targets.put("nginx", peers.nginxGrpc);
                targets.put("haproxy", peers.haproxyGrpc);
            }
        }
        if (peers != null) {
            probes.put("nginx", new Probe(peers.nginx.pid()));
            probes.put("haproxy", new Probe(peers.haproxy.pid()));
        }
        log.printf(Locale.ROOT, "== %s payload=%d B connections=%d (load avg %s)%n", c.proto, c.payload,
                c.connections, Probe.loadAverage());
        double directCapacity = -1;
        for (Map.Entry<String, Integer> t : targets.entrySet()) {
            try (AsyncCaller caller = connect(c, group, t.getValue())) {
                // warm-up at full speed: JIT, connection pools, buffer pools
                Drive.closed(caller, inFlight(c), 0, s.warmup);
                if (c.closed) {
                    Row r = measure(c, t.getKey(), "closed", -1, caller, probes.get(t.getKey()));
                    if (t.getKey().equals("direct")) {
                        directCapacity = r.out.throughput();
                    }
                }
                for (double f : c.openFractions) {
                    if (directCapacity > 0) {
                        measure(c, t.getKey(), "open " + Math.round(f * 100) + "%", f * directCapacity, caller,
                                probes.get(t.getKey()));
                    }
                }
            } catch (Exception e) {
                log.printf("   %s: FAILED %s%n", t.getKey(), e);
            }
        }
    }

    private int inFlight(Cell c) {
        return c.connections;
    }

    private AsyncCaller connect(Cell c, EventLoopGroup group, int port) throws Exception {
        return switch (c.proto) {
            case bolt -> RpcCallers.bolt(port, c.connections, c.payload);
            case dubbo -> RpcCallers.dubbo(port, c.connections, c.payload);
            case http1 -> HttpCallers.http1(group, port, c.connections, "/p" + c.payload);
            // h2 multiplexes: a connection per 8 streams in flight
            case h2 -> HttpCallers.http2(group, port, Math.max(1, c.connections / 8), "/p" + c.payload, null);
            case grpc -> HttpCallers.http2(group, port, Math.max(1, c.connections / 8), "/bench.Echo/Call",
                    new byte[c.payload]);
        };
    }

    private Row measure(Cell c, String target, String load, double rate, AsyncCaller caller, Probe probe)
            throws Exception {
        long[] before = probe == null ? null : probe.snapshot();
        Drive.Outcome o = rate < 0 ? Drive.closed(caller, inFlight(c), 0, s.duration)
                : Drive.open(caller, rate, 0, s.duration);
        double cpu = -1;
        double alloc = -1;
        double loopAlloc = -1;
        long rss = -1;
        if (probe != null) {
            long[] after = probe.snapshot();
            long n = Math.max(1, o.requests() + o.errors());
            cpu = before[0] < 0 || after[0] < 0 ? -1 : (after[0] - before[0]) / (double) n;
            alloc = before[1] < 0 || after[1] < 0 ? -1 : (after[1] - before[1]) / (double) n;
            loopAlloc = before[2] < 0 || after[2] < 0 ? -1 : (after[2] - before[2]) / (double) n;
            rss = probe.memoryKb()[0];
        }
        Row r = new Row(c.proto.name(), c.payload, c.connections, load, target, rate, o, cpu, alloc, loopAlloc, rss,
                Probe.loadAverage());
        rows.add(r);
        Histogram h = o.micros();
        log.printf(Locale.ROOT, "   %-8s %-9s %10.0f req/s  p50 %6d  p99 %7d  p99.9 %7d us  cpu %6.1f us/req  "
                        + "alloc %6.0f B/req (loops %6.0f)  errors %d%s%n", target, load, o.throughput(),
                h.getValueAtPercentile(50), h.getValueAtPercentile(99), h.getValueAtPercentile(99.9), cpu, alloc,
                loopAlloc,
                o.errors(), o.firstError() == null ? "" : " (" + o.firstError() + ")");
        String name = String.format(Locale.ROOT, "%s_%d_%d_%s__%s", c.proto, c.payload, c.connections,
                load.replace(" ", "").replace("%", "pct"), target);
        try (PrintStream ps = new PrintStream(Files.newOutputStream(s.out.resolve("hist").resolve(name + ".hgrm")),
                false, StandardCharsets.UTF_8)) {
            h.outputPercentileDistribution(ps, 1.0);
        }
        return r;
    }

    /** Start to /ready and to the first proxied Bolt call, for the default config and for 5,000 routes + 50k hosts. */
    private void startup(Path work) throws Exception {
        if (s.startupRuns == 0) {
            return;
        }
        int provider = LoadHarness.freePort();
        try (AutoCloseable p = RpcCallers.boltProvider(provider)) {
            for (boolean large : List.of(false, true)) {
                List<Long> ready = new ArrayList<>();
                List<Long> first = new ArrayList<>();
                long idleRss = -1;
                for (int run = 0; run < s.startupRuns; run++) {
                    int admin = LoadHarness.freePort();
                    int listener = LoadHarness.freePort();
                    Path cfg = work.resolve(large ? "large.json" : "default.json");
                    Files.writeString(cfg, large ? largeConfig(admin, work, listener, provider)
                            : sidecarConfig(admin, work, Map.of(Proto.bolt, listener), provider, 0, 0, 0));
                    try (SidecarProcess sc = SidecarProcess.start(s.remoraHome, cfg, work, admin, s.sidecarOpts);
                         AsyncCaller caller = RpcCallers.bolt(listener, 1, 128)) {
                        ready.add(sc.readyAfterNanos());
                        java.util.concurrent.CompletableFuture<Void> done = new java.util.concurrent.CompletableFuture<>();
                        caller.call(new AsyncCaller.Done() {
                            @Override
                            public void ok() {
                                done.complete(null);
                            }

                            @Override
                            public void failed(Throwable cause) {
                                done.completeExceptionally(cause);
                            }
                        });
                        done.get(30, TimeUnit.SECONDS);
                        first.add(System.nanoTime() - sc.startedNanos());
                        Probe probe = new Probe(sc.pid());
                        idleRss = probe.memoryKb()[0];
                        if (!large && run == 0 && s.idleConnections > 0) {
                            idleConnections(probe, listener);
                        }
                    }
                }
                String what = large ? "5,000 routes + 50,000 endpoints" : "default (one listener)";
                facts.put("start to ready, " + what + " (ms, median of " + s.startupRuns + ")", ms(median(ready)));
                facts.put("start to first request served, " + what + " (ms)", ms(median(first)));
                facts.put("RSS idle after start, " + what + " (MB)", mb(idleRss));
                log.printf("startup %s: ready %s ms, first request %s ms, RSS %s MB%n", what, ms(median(ready)),
                        ms(median(first)), mb(idleRss));
            }
        }
    }

    private void idleConnections(Probe probe, int port) throws Exception {
        long fdsBefore = probe.openFds();
        List<SocketChannel> open = new ArrayList<>(s.idleConnections);
        try {
            for (int i = 0; i < s.idleConnections; i++) {
                open.add(SocketChannel.open(new InetSocketAddress("127.0.0.1", port)));
            }
            // the sidecar accepts asynchronously: a bounded poll of its descriptor count
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (probe.openFds() < fdsBefore + s.idleConnections && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            Thread.sleep(500);
            long[] mem = probe.memoryKb();
            facts.put("sidecar RSS with " + s.idleConnections + " idle downstream connections (MB)", mb(mem[0]));
            log.printf("idle connections: %d open, sidecar RSS %s MB%n", s.idleConnections, mb(mem[0]));
        } finally {
            for (SocketChannel ch : open) {
                try {
                    ch.close();
                } catch (IOException e) {
                    // closing anyway
                }
            }
        }
    }

    static String sidecarConfig(int admin, Path work, Map<Proto, Integer> listeners, int boltProvider,
                                int dubboProvider, int httpOrigin, int grpcOrigin) {
        StringBuilder l = new StringBuilder();
        StringBuilder c = new StringBuilder();
        for (Map.Entry<Proto, Integer> e : listeners.entrySet()) {
            if (l.length() > 0) {
                l.append(",\n");
            }
            switch (e.getKey()) {
                case bolt -> l.append("""
                        {"name":"bench_bolt","address":"127.0.0.1:%d","protocol":"bolt","direction":"outbound",
                         "routes":[{"name":"all","match":{"service":"*"},"cluster":"bolt_provider","timeout_ms":5000}]}"""
                        .formatted(e.getValue()));
                case dubbo -> l.append("""
                        {"name":"bench_dubbo","address":"127.0.0.1:%d","protocol":"dubbo","direction":"outbound",
                         "routes":[{"name":"all","match":{"service":"*"},"cluster":"dubbo_provider","timeout_ms":5000}]}"""
                        .formatted(e.getValue()));
                default -> l.append("""
                        {"name":"bench_http","address":"127.0.0.1:%d","protocol":"http","direction":"outbound",
                         "routes":[{"name":"grpc","match":{"prefix":"/bench.Echo/"},"cluster":"grpc_origin","timeout_ms":5000},
                                   {"name":"all","match":{"prefix":"/"},"cluster":"http_origin","timeout_ms":5000}]}"""
                        .formatted(e.getValue()));
            }
        }
        c.append("""
                {"name":"bolt_provider","hosts":[{"address":"127.0.0.1:%d"}]},
                {"name":"dubbo_provider","hosts":[{"address":"127.0.0.1:%d"}]},
                {"name":"http_origin","hosts":[{"address":"127.0.0.1:%d"}]},
                {"name":"grpc_origin","hosts":[{"address":"127.0.0.1:%d"}]}"""
                .formatted(boltProvider, Math.max(1, dubboProvider), Math.max(1, httpOrigin), Math.max(1, grpcOrigin)));
        return """
                {"worker_threads": 1,
                 "admin": {"address": "127.0.0.1", "port": %d},
                 "log": {"dir": "%s", "level": "ERROR"},
                 "listeners": [%s],
                 "clusters": [%s]}
                """.formatted(admin, work.resolve("logs").toAbsolutePath(), l, c);
    }

    /** 5,000 routes (one per service, every 10th with a header condition) over 10 clusters of 5,000 hosts each. */
    static String largeConfig(int admin, Path work, int listener, int provider) {
        StringBuilder routes = new StringBuilder();
        for (int i = 0; i < 5000; i++) {
            routes.append("{\"name\":\"r").append(i).append("\",\"match\":{\"service\":\"com.example.Service").append(i)
                    .append(":1.0\"").append(i % 10 == 0 ? ",\"headers\":[{\"name\":\"zone\",\"exact\":\"z1\"}]" : "")
                    .append("},\"cluster\":\"c").append(i % 10).append("\",\"timeout_ms\":3000},\n");
        }
        routes.append("{\"name\":\"all\",\"match\":{\"service\":\"*\"},\"cluster\":\"bolt_provider\",\"timeout_ms\":5000}");
        StringBuilder clusters = new StringBuilder();
        int n = 0;
        for (int c = 0; c < 10; c++) {
            clusters.append("{\"name\":\"c").append(c).append("\",\"lb_policy\":\"")
                    .append(c % 2 == 0 ? "round_robin" : "weighted").append("\",\"hosts\":[");
            for (int h = 0; h < 5000; h++, n++) {
                clusters.append(h == 0 ? "" : ",").append("{\"address\":\"10.").append((n >> 16) & 255).append('.')
                        .append((n >> 8) & 255).append('.').append(n & 255).append(":12200\",\"weight\":")
                        .append(1 + h % 5).append(",\"labels\":{\"zone\":\"z").append(h % 3).append("\"}}");
            }
            clusters.append("]},\n");
        }
        clusters.append("{\"name\":\"bolt_provider\",\"hosts\":[{\"address\":\"127.0.0.1:").append(provider).append("\"}]}");
        return """
                {"worker_threads": 1,
                 "admin": {"address": "127.0.0.1", "port": %d},
                 "log": {"dir": "%s", "level": "ERROR"},
                 "listeners": [{"name":"bench_bolt","address":"127.0.0.1:%d","protocol":"bolt","direction":"outbound",
                   "routes":[%s]}],
                 "clusters": [%s]}
                """.formatted(admin, work.resolve("logs").toAbsolutePath(), listener, routes, clusters);
    }

    private static long median(List<Long> xs) {
        List<Long> sorted = xs.stream().sorted().toList();
        return sorted.isEmpty() ? -1 : sorted.get(sorted.size() / 2);
    }

    static String ms(long nanos) {
        return String.format(Locale.ROOT, "%.0f", nanos / 1e6);
    }

    static String mb(long kb) {
        return kb < 0 ? "n/a" : String.format(Locale.ROOT, "%.1f", kb / 1024.0);
    }
}
