package io.remora.attack;

import io.remora.testkit.SidecarProcess;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The sidecar as shipped: {@code dist/target/remora/bin/remora} (the launcher's JVM flags: -Xmx256m, serial GC,
 * 256 MB direct memory, ...) in its own process, with Netty's leak detector at PARANOID, its logs in a directory of
 * the test's. Reads its RSS from /proc, its heap and overload pressure from its own metrics.
 */
final class RemoraProcess implements AutoCloseable {

    private final Process process;
    private final Path logDir;
    private final Path stdout;
    private final int adminPort;
    private final Map<String, Long> logOffsets = new HashMap<>();

    private RemoraProcess(Process process, Path logDir, Path stdout, int adminPort) {
        this.process = process;
        this.logDir = logDir;
        this.stdout = stdout;
        this.adminPort = adminPort;
    }

    /** Starts bin/remora with {@code config}; {@code env} adds to the launcher's environment (REMORA_DIRECT_MB...). */
    static RemoraProcess start(String name, String config, int adminPort, Map<String, String> env) throws Exception {
        Path home = Path.of(System.getProperty("remora.home", "../dist/target/remora")).toAbsolutePath().normalize();
        Path launcher = home.resolve("bin/remora");
        if (!Files.isExecutable(launcher)) {
            throw new IllegalStateException(launcher + " not found: build the dist first (scripts/attack.sh does)");
        }
        Path dir = Files.createDirectories(Path.of("target", "attack-runs", name).toAbsolutePath());
        Path cfg = dir.resolve("remora.json");
        Files.writeString(cfg, config);
        Path logDir = dir.resolve("logs");
        Path out = dir.resolve("stdout.txt");
        ProcessBuilder pb = new ProcessBuilder(launcher.toString(), "--config", cfg.toString(), "--log-dir",
                logDir.toString(), "--drain-timeout", "1");
        pb.environment().put("REMORA_EXTRA_OPTS", "-Dio.netty.leakDetection.level=paranoid "
                + "-Dio.netty.leakDetection.targetRecords=4");
        pb.environment().putAll(env);
        pb.redirectErrorStream(true).redirectOutput(out.toFile());
        RemoraProcess p = new RemoraProcess(pb.start(), logDir, out, adminPort);
        p.awaitReady(60_000);
        return p;
    }

    private void awaitReady(long timeoutMillis) throws Exception {
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (System.nanoTime() < end) {
            if (!process.isAlive()) {
                throw new AssertionError("sidecar exited with " + process.exitValue() + ":\n" + output());
            }
            try {
                if (SidecarProcess.get(adminPort, "/ready").contains("LIVE")) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(100); // polling a child process; nothing to await on
        }
        throw new AssertionError("sidecar not ready within " + timeoutMillis + " ms:\n" + output());
    }

    long pid() {
        return process.pid();
    }

    boolean alive() {
        return process.isAlive();
    }

    Path logDir() {
        return logDir;
    }

    String output() {
        try {
            return Files.exists(stdout) ? Files.readString(stdout) : "";
        } catch (IOException e) {
            return "<" + e + ">";
        }
    }

    /** Resident set size in KiB ({@code VmRSS}), or {@code VmHWM} for the peak. */
    long statusKb(String field) {
        try {
            for (String l : Files.readAllLines(Path.of("/proc", Long.toString(pid()), "status"))) {
                if (l.startsWith(field + ":")) {
                    return Long.parseLong(l.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException e) {
            throw new AssertionError("cannot read /proc/" + pid() + "/status: " + e);
        }
        throw new AssertionError(field + " not in /proc/" + pid() + "/status");
    }

    double rssMb() {
        return statusKb("VmRSS") / 1024.0;
    }

    /** The sum of the samples of {@code name} whose label set contains every one of {@code labels}. */
    double metric(String name, String... labels) throws IOException {
        double sum = 0;
        boolean found = false;
        for (String l : SidecarProcess.get(adminPort, "/metrics").split("\n")) {
            if (l.startsWith("#") || !(l.startsWith(name + "{") || l.startsWith(name + " "))) {
                continue;
            }
            boolean all = true;
            for (String label : labels) {
                all &= l.contains(label);
            }
            if (all) {
                sum += Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1));
                found = true;
            }
        }
        return found ? sum : 0;
    }

    double heapUsedMb() throws IOException {
        return metric("jvm_memory_used_bytes", "area=\"heap\"") / (1 << 20);
    }

    double directPercent() throws IOException {
        return metric("remora_overload_pressure_percent", "resource=\"direct\"");
    }

    /** A full GC in the sidecar (jcmd), so leaked buffers become reports and the heap figure is live data. */
    void gc() throws Exception {
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                Long.toString(pid()), "GC.run").redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        p.waitFor(20, TimeUnit.SECONDS);
    }

    /** Lines written to {@code file} (in the log dir) since the last call for it. */
    List<String> newLines(String file) throws IOException {
        Path f = logDir.resolve(file);
        List<String> lines = new ArrayList<>();
        if (!Files.exists(f)) {
            return lines;
        }
        long from = logOffsets.getOrDefault(file, 0L);
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "r")) {
            long len = raf.length();
            if (len < from) {
                from = 0; // rolled over
            }
            byte[] b = new byte[(int) (len - from)];
            raf.seek(from);
            raf.readFully(b);
            String s = new String(b, StandardCharsets.UTF_8);
            int end = s.lastIndexOf('\n') + 1; // a line being written stays for the next call
            s.substring(0, end).lines().forEach(lines::add);
            logOffsets.put(file, from + s.substring(0, end).getBytes(StandardCharsets.UTF_8).length);
        }
        return lines;
    }

    /** Netty's leak reports anywhere in the sidecar's output or logs. */
    List<String> leaks() throws IOException {
        List<String> found = new ArrayList<>();
        output().lines().filter(l -> l.contains("LEAK:")).forEach(found::add);
        Path def = logDir.resolve("default.log");
        if (Files.exists(def)) {
            Files.readAllLines(def).stream().filter(l -> l.contains("LEAK:")).forEach(found::add);
        }
        return found;
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy(); // SIGTERM: drains (1 s) and exits
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
