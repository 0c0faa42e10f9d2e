package io.remora.examples.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Keeps scripts/bench.sh working: a --smoke run through a real sidecar process. */
class LoadHarnessSmokeTest {

    @Test
    void smokeRunMeasuresDirectAndViaSidecarAndReportsSidecarMemory() throws Exception {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(buf, true, StandardCharsets.UTF_8);

        LoadHarness.Report r = LoadHarness.run(LoadSettings.parse(new String[] {"--smoke"}), out);
        LoadHarness.print(r, out);

        String text = buf.toString(StandardCharsets.UTF_8);
        assertEquals(0, r.direct().errors(), text);
        assertEquals(0, r.viaSidecar().errors(), text);
        assertTrue(r.direct().requests() > 0 && r.viaSidecar().requests() > 0, text);
        if (System.getProperty("os.name").startsWith("Linux")) {
            assertTrue(r.sidecarRssKb() > 0, text);
        }
        assertTrue(text.contains("via sidecar"), text);
    }
}
