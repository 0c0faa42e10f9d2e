package io.remora.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The real command line in a separate JVM: invalid config exits non-zero naming the field. */
class CommandLineTest {

    @TempDir
    Path dir;

    private Result run(String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Sidecar.class.getName()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "process finished");
        return new Result(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }

    private record Result(int exit, String output) {
    }

    @Test
    void exitsWithStatus2AndTheFieldPathOnInvalidConfig() throws Exception {
        Path cfg = dir.resolve("bad.json");
        Files.writeString(cfg, """
                {"listeners":[{"name":"out","address":"127.0.0.1:70000","protocol":"testrpc","routes":[]}]}""");
        Result r = run("--config", cfg.toString(), "--log-dir", dir.resolve("logs").toString());
        assertEquals(2, r.exit(), r.output());
        assertTrue(r.output().contains("listeners[0].address"), r.output());
        assertTrue(r.output().contains("70000"), r.output());
    }

    @Test
    void validateOnlyAcceptsAGoodConfig() throws Exception {
        Path cfg = dir.resolve("good.json");
        Files.writeString(cfg, """
                {"listeners":[{"name":"out","address":"127.0.0.1:0","protocol":"testrpc","routes":[]}]}""");
        Result r = run("--config", cfg.toString(), "--validate");
        assertEquals(0, r.exit(), r.output());
        assertTrue(r.output().contains("valid"), r.output());
    }

    @Test
    void rejectsADigestQueueLargerThanTheRingCanPreallocate() throws Exception {
        Path cfg = dir.resolve("huge-digest.json");
        Files.writeString(cfg, """
                {"metrics":{"digest_queue":2000000},
                 "listeners":[{"name":"out","address":"127.0.0.1:0","protocol":"testrpc","routes":[]}]}""");
        Result r = run("--config", cfg.toString(), "--validate");
        assertEquals(2, r.exit(), r.output());
        assertTrue(r.output().contains("metrics.digest_queue") && r.output().contains("1048576"), r.output());
    }

    @Test
    void exitsWithStatus2WhenTheFileIsMissing() throws Exception {
        Result r = run("--config", dir.resolve("missing.json").toString());
        assertEquals(2, r.exit(), r.output());
        assertTrue(r.output().contains("does not exist"), r.output());
    }
}
