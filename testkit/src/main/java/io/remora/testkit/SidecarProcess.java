package io.remora.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A sidecar in its own JVM ({@code java -cp <this test classpath> io.remora.core.Sidecar ...}), output to a file. */
public final class SidecarProcess implements AutoCloseable {

    private final Process process;
    private final Path out;
    private final Path logDir;

    private SidecarProcess(Process process, Path out, Path logDir) {
        this.process = process;
        this.out = out;
        this.logDir = logDir;
    }

    public static SidecarProcess start(Path config, Path workDir, String name, boolean upgrade, String... props)
            throws IOException {
        Path logDir = Files.createDirectories(workDir.resolve(name));
        Path out = logDir.resolve("stdout.txt");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx192m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto",
                "-cp", System.getProperty("java.class.path")));
        cmd.addAll(List.of(props));
        cmd.addAll(List.of("io.remora.core.Sidecar", "--config", config.toString(), "--log-dir", logDir.toString()));
        if (upgrade) {
            cmd.add("--upgrade");
        }
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        return new SidecarProcess(p, out, logDir);
    }

    public long pid() {
        return process.pid();
    }

    public Process process() {
        return process;
    }

    public Path logDir() {
        return logDir;
    }

    public String output() {
        try {
            return Files.exists(out) ? Files.readString(out) : "";
        } catch (IOException e) {
            return "<" + e + ">";
        }
    }

    /** Waits (bounded) for the start-up line "remora ready"; fails with the output if the process dies first. */
    public void awaitReady(long timeoutMillis) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (System.nanoTime() < end) {
            if (output().contains("remora ready in")) {
                return;
            }
            if (!process.isAlive()) {
                throw new AssertionError("sidecar exited with " + process.exitValue() + ":\n" + output());
            }
            Thread.sleep(50); // polling a child's output file; there is nothing to await on
        }
        throw new AssertionError("sidecar not ready within " + timeoutMillis + " ms:\n" + output());
    }

    /** Exit code, or fails if still running after the timeout. */
    public int awaitExit(long timeoutMillis) throws InterruptedException {
        if (!process.waitFor(timeoutMillis, TimeUnit.MILLISECONDS)) {
            throw new AssertionError("sidecar pid " + pid() + " still running after " + timeoutMillis + " ms:\n"
                    + output());
        }
        return process.exitValue();
    }

    @Override
    public void close() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    /** One admin GET on a fresh connection (Connection: close): never reuses a socket of a process that left. */
    public static String get(int port, String path) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 3000);
            s.setSoTimeout(5000);
            OutputStream o = s.getOutputStream();
            o.write(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            o.flush();
            InputStream in = s.getInputStream();
            String r = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            int i = r.indexOf("\r\n\r\n");
            if (!r.startsWith("HTTP/1.1 200")) {
                throw new IOException("GET " + path + ": " + r);
            }
            return i < 0 ? "" : r.substring(i + 4);
        }
    }
}
