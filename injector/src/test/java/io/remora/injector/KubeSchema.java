package io.remora.injector;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The repository's offline Kubernetes schema check ({@code node deploy/validate/validate.mjs}, what scripts/test.sh
 * runs on deploy/k8s) on objects the tests produce. Skipped, with the reason, without node; when its npm packages
 * are missing it installs them once (npm's registry, as scripts/test.sh does).
 */
public final class KubeSchema {

    private static Boolean ready;
    private static String whyNot;

    private KubeSchema() {}

    /** The repository root: the directory holding deploy/validate/validate.mjs, above the module's directory. */
    public static Path repoRoot() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.exists(p.resolve("deploy/validate/validate.mjs"))) return p;
        }
        throw new IllegalStateException("no deploy/validate/validate.mjs above " + Path.of("").toAbsolutePath());
    }

    /** Validates every object (a Pod, a Deployment, ...) with the schema check; fails the test when invalid. */
    public static void assertValid(Path dir, String name, JsonNode... objects) throws IOException,
            InterruptedException {
        StringBuilder yaml = new StringBuilder();
        for (JsonNode o : objects) yaml.append("---\n").append(Json.YAML.writeValueAsString(o));
        Path file = dir.resolve(name + ".yaml");
        Files.writeString(file, yaml);
        assertValidFile(file);
    }

    public static void assertValidFile(Path file) throws IOException, InterruptedException {
        assumeTrue(available(), () -> "schema check skipped: " + whyNot);
        Path validate = repoRoot().resolve("deploy/validate");
        Result r = run(validate, 120, "node", "validate.mjs", file.toAbsolutePath().toString());
        assertEquals(0, r.code, () -> "schema check of " + file + " failed:\n" + r.output);
    }

    private static synchronized boolean available() throws IOException, InterruptedException {
        if (ready != null) return ready;
        Path validate = repoRoot().resolve("deploy/validate");
        if (run(validate, 30, "node", "--version").code != 0) {
            whyNot = "node is not installed (CI installs it; the check runs there)";
            return ready = false;
        }
        if (!Files.isDirectory(validate.resolve("node_modules/kubernetes-models"))) {
            Result npm = run(validate, 600, "npm", "install", "--no-audit", "--no-fund", "--silent");
            if (npm.code != 0) {
                whyNot = "npm install in deploy/validate failed (" + npm.code + "): " + npm.output;
                return ready = false;
            }
        }
        return ready = true;
    }

    private record Result(int code, String output) {}

    private static Result run(Path dir, int timeoutSeconds, String... cmd) throws IOException, InterruptedException {
        Process p;
        try {
            p = new ProcessBuilder(List.of(cmd)).directory(dir.toFile()).redirectErrorStream(true).start();
        } catch (IOException e) {
            return new Result(127, e.getMessage());
        }
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return new Result(124, "timed out: " + String.join(" ", cmd));
        }
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }
}
