package io.remora.examples.bench;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Keeps bench/run.sh working: a --smoke run of the suite through a real sidecar process. Figures are never checked. */
class BenchSuiteSmokeTest {

    @Test
    void smokeRunMeasuresEveryTargetAndWritesTheReport(@TempDir Path out) throws Exception {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream log = new PrintStream(buf, true, StandardCharsets.UTF_8);

        List<BenchSuite.Row> rows = BenchSuite.run(BenchSuite.parse(new String[] {"--smoke", "--out", out.toString()}), log);

        String text = buf.toString(StandardCharsets.UTF_8);
        assertFalse(rows.isEmpty(), text);
        assertTrue(rows.stream().anyMatch(r -> r.target().equals("direct")), text);
        assertTrue(rows.stream().anyMatch(r -> r.target().equals("remora")), text);
        for (BenchSuite.Row r : rows) {
            assertTrue(r.out().requests() > 0, r + "\n" + text);
            assertTrue(r.out().errors() == 0, r.out().firstError() + "\n" + text);
        }
        String report = Files.readString(out.resolve("report.md"));
        assertTrue(report.contains("start to ready"), report);
        assertTrue(Files.readAllLines(out.resolve("results.csv")).size() == rows.size() + 1);
        assertTrue(Files.list(out.resolve("hist")).count() == rows.size());
    }
}
