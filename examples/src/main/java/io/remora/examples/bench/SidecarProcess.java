package io.remora.examples.bench;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The sidecar as a separate process (so its memory can be read from /proc): through {@code <home>/bin/remora} when a
 * dist is given, else {@code java -cp <this class path> io.remora.core.Sidecar} with the launcher's heap settings.
 */
final class SidecarProcess implements AutoCloseable {

    /** The launcher's memory flags, for the class-path variant (keep in step with dist bin/remora). */
    private static final List<String> JVM_FLAGS = List.of("-Xms64m", "-Xmx256m", "-XX:+UseSerialGC",
            "-XX:MaxDirectMemorySize=256m", "-XX:MaxMetaspaceSize=128m", "-XX:ReservedCodeCacheSize=64m", "-Xss512k",
            "-Dio.netty.jfr.enabled=false");
    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

    private final Process process;
    private final Path output;

    private final long startedNanos;
    private long readyNanos;

    private SidecarProcess(Process process, Path output, long startedNanos) {
        this.process = process;
        this.output = output;
        this.startedNanos = startedNanos;
    }

    /** {@link System#nanoTime()} just before the process was spawned. */
    long startedNanos() {
        return startedNanos;
    }

    /** Nanoseconds from spawn until /ready first answered 200. */
    long readyAfterNanos() {
        return readyNanos - startedNanos;
    }

    static SidecarProcess start(Path remoraHome, Path config, Path workDir, int adminPort) throws Exception {
        return start(remoraHome, config, workDir, adminPort, "");
    }

    /** {@code extraJvmOpts} go to the launcher's REMORA_EXTRA_OPTS (or after the class-path variant's flags). */
    static SidecarProcess start(Path remoraHome, Path config, Path workDir, int adminPort, String extraJvmOpts)
            throws Exception {
        return start(remoraHome, config, workDir, adminPort, extraJvmOpts, false);
    }

    /**
     * With {@code upgrade}, the new process takes over from the one serving the same admin port ({@code --upgrade});
     * it is ready once the admin port's /ready answers 200 from this process (the old one answers until takeover).
     */
    static SidecarProcess start(Path remoraHome, Path config, Path workDir, int adminPort, String extraJvmOpts,
                                boolean upgrade) throws Exception {
        List<String> cmd = new ArrayList<>(Pinning.proxyPrefix());
        if (remoraHome != null) {
            Path launcher = remoraHome.resolve("bin/remora").toAbsolutePath();
            if (!Files.isExecutable(launcher)) {
                throw new IllegalStateException(launcher + " is missing or not executable; build with: "
                        + "mvn -q -DskipTests package");
            }
            cmd.add(launcher.toString());
        } else {
            cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            cmd.addAll(JVM_FLAGS);
            if (!extraJvmOpts.isBlank()) {
                cmd.addAll(List.of(extraJvmOpts.trim().split("\\s+")));
            }
            cmd.add("-cp");
            cmd.add(System.getProperty("java.class.path"));
            cmd.add("io.remora.core.Sidecar");
        }
        cmd.add("--config");
        cmd.add(config.toAbsolutePath().toString());
        if (upgrade) {
            cmd.add("--upgrade");
        }
        Path out = workDir.resolve("sidecar-" + System.nanoTime() + ".out");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile());
        if (!extraJvmOpts.isBlank()) {
            pb.environment().merge("REMORA_EXTRA_OPTS", extraJvmOpts, (a, b) -> a + " " + b);
        }
        long started = System.nanoTime();
        Process p = pb.start();
        SidecarProcess s = new SidecarProcess(p, out, started);
        try {
            s.awaitReady(adminPort);
        } catch (Exception e) {
            s.close();
            throw e;
        }
        return s;
    }

    /** Polls the admin port's /ready: nothing to await across processes, so a bounded poll. */
    private void awaitReady(int adminPort) throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        HttpRequest ready = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + "/ready"))
                .timeout(Duration.ofSeconds(2)).build();
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("sidecar exited with status " + process.exitValue() + ":\n" + tail());
            }
            try {
                if (http.send(ready, HttpResponse.BodyHandlers.discarding()).statusCode() == 200
                        && servesAdmin(http, adminPort)) {
                    readyNanos = System.nanoTime();
                    return;
                }
            } catch (ConnectException e) {
                // not listening yet
            }
            process.waitFor(5, TimeUnit.MILLISECONDS);
        }
        throw new IllegalStateException("sidecar not ready after " + START_TIMEOUT.toSeconds() + " s:\n" + tail());
    }

    /** True if this process (not an old one sharing the port during an upgrade) answers the admin port. */
    private boolean servesAdmin(HttpClient http, int adminPort) throws Exception {
        HttpRequest states = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + "/api/v1/states"))
                .timeout(Duration.ofSeconds(2)).build();
        String body = http.send(states, HttpResponse.BodyHandlers.ofString()).body();
        return JSON.readTree(body).path("pid").asLong() == process.pid();
    }

    long pid() {
        return process.pid();
    }

    /** Waits for the process to exit by itself (the old side of an upgrade); its exit code, or -1 on timeout. */
    int awaitExit(long timeoutMillis) throws InterruptedException {
        return process.waitFor(timeoutMillis, TimeUnit.MILLISECONDS) ? process.exitValue() : -1;
    }

    boolean alive() {
        return process.isAlive();
    }

    /** The last lines of the process's console output. */
    String outputTail() {
        return tail();
    }

    /** {@code VmRSS} and {@code VmHWM} (peak) in kB from /proc, or -1 where there is no /proc. */
    long[] memoryKb() {
        long rss = -1;
        long hwm = -1;
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    rss = kb(line);
                } else if (line.startsWith("VmHWM:")) {
                    hwm = kb(line);
                }
            }
        } catch (IOException e) {
            // not Linux, or the process is gone
        }
        return new long[] {rss, hwm};
    }

    private static long kb(String line) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
    }

    private String tail() {
        try {
            List<String> lines = Files.readAllLines(output);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return "(no output: " + e.getMessage() + ")";
        }
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
