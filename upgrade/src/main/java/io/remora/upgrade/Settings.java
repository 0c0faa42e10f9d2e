package io.remora.upgrade;

import com.fasterxml.jackson.databind.JsonNode;
import io.remora.core.config.SidecarConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Config {@code extensions.upgrade}: {@code dir} (where the upgrade socket lives; a volume shared by the old and the
 * new container), {@code auto} (take over from a sidecar found there even without {@code --upgrade}), and the bounds
 * of every wait.
 */
record Settings(Path dir, boolean auto, long stepTimeoutMillis, long takeoverTimeoutMillis, long drainTimeoutMillis,
                long exitTimeoutMillis) {

    static final String SOCKET_NAME = "remora-upgrade.sock";
    static final int DEFAULT_ADMIN_PORT = 34901;

    /** Null when upgrades are off: no dir configured and an ephemeral admin port (tests) to name a default after. */
    static Settings from(SidecarConfig cfg) {
        JsonNode n = cfg == null || cfg.extensions() == null ? null : cfg.extensions().get("upgrade");
        String dir = text(n, "dir", System.getProperty("remora.upgrade.dir"));
        if (dir == null) {
            int adminPort = cfg == null || cfg.admin() == null || cfg.admin().port() == null ? DEFAULT_ADMIN_PORT
                    : cfg.admin().port();
            if (adminPort == 0) {
                return null;
            }
            dir = Path.of(System.getProperty("java.io.tmpdir"), "remora-" + adminPort).toString();
        }
        Settings s = new Settings(Path.of(dir), bool(n, "auto", true), num(n, "step_timeout_ms", 5_000),
                num(n, "takeover_timeout_ms", 30_000), num(n, "drain_timeout_ms", 10_000),
                num(n, "exit_timeout_ms", 30_000));
        int len = s.socket().toString().getBytes(StandardCharsets.UTF_8).length;
        if (len > 107) {
            throw new IllegalArgumentException("extensions.upgrade.dir: socket path " + s.socket() + " is " + len
                    + " bytes, Unix sockets allow 107");
        }
        return s;
    }

    Path socket() {
        return dir.resolve(SOCKET_NAME);
    }

    private static String text(JsonNode n, String f, String dflt) {
        JsonNode v = n == null ? null : n.get(f);
        return v == null || v.isNull() ? dflt : v.asText();
    }

    private static boolean bool(JsonNode n, String f, boolean dflt) {
        JsonNode v = n == null ? null : n.get(f);
        return v == null || v.isNull() ? dflt : v.asBoolean();
    }

    private static long num(JsonNode n, String f, long dflt) {
        JsonNode v = n == null ? null : n.get(f);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.canConvertToLong() || v.asLong() <= 0) {
            throw new IllegalArgumentException("extensions.upgrade." + f + ": must be a positive number of ms, was "
                    + v);
        }
        return v.asLong();
    }
}
