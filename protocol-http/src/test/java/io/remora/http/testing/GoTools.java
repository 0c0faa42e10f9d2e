package io.remora.http.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Test peers written in Go (h2spec, …): found on the PATH or in {@code $GOPATH/bin}, or built once with
 * {@code go install} into {@code target/go-tools} (the Go module proxy is the only download). Null when there is no
 * binary and no Go toolchain to build one.
 */
public final class GoTools {

    private GoTools() {
    }

    /**
     * The binary {@code name}: {@code $NAME} (upper case, e.g. {@code H2SPEC}) if set, else the PATH, else
     * {@code ~/go/bin}, else built from {@code module} (a {@code go install} argument with its version).
     */
    public static synchronized Path binary(String name, String module) throws IOException, InterruptedException {
        String env = System.getenv(name.toUpperCase(java.util.Locale.ROOT));
        if (env != null && Files.isExecutable(Paths.get(env))) {
            return Paths.get(env);
        }
        Path built = Paths.get("target", "go-tools", name).toAbsolutePath();
        if (Files.isExecutable(built)) {
            return built;
        }
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            Path p = Paths.get(dir.isEmpty() ? "." : dir, name);
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        Path home = Paths.get(System.getProperty("user.home"), "go", "bin", name);
        if (Files.isExecutable(home)) {
            return home;
        }
        Path go = go();
        if (go == null) {
            return null;
        }
        Files.createDirectories(built.getParent());
        List<String> cmd = new ArrayList<>(List.of(go.toString(), "install", module));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("GOBIN", built.getParent().toString());
        pb.environment().putIfAbsent("GOFLAGS", "-modcacherw");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0 || !Files.isExecutable(built)) {
            throw new IOException("go install " + module + " failed:\n" + out);
        }
        return built;
    }

    /** The Go toolchain: on the PATH, or the machine's /usr/local/go. */
    public static Path go() {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            Path p = Paths.get(dir.isEmpty() ? "." : dir, "go");
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        Path local = Paths.get("/usr/local/go/bin/go");
        return Files.isExecutable(local) ? local : null;
    }
}
