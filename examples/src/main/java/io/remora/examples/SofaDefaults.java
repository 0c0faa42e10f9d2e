package io.remora.examples;

import java.nio.file.Path;

/** SOFA settings for the demo processes; call before the first SOFARPC or Bolt class is touched. */
public final class SofaDefaults {

    private SofaDefaults() {
    }

    public static void apply() {
        // sofa-common-tools' logback binding predates logback 1.5 and prints a stack trace when it fails to load.
        System.setProperty("sofa.middleware.log.disable", System.getProperty("sofa.middleware.log.disable", "true"));
        // SOFA tracer digest files go to ${logging.path}, by default ~/logs; keep them out of the home directory.
        System.setProperty("logging.path", System.getProperty("logging.path",
                Path.of(System.getProperty("java.io.tmpdir"), "remora-examples-logs").toString()));
    }
}
