package io.remora.core.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.remora.core.admin.AdminClient.Reply;
import io.remora.core.cluster.HostRegistry;
import io.remora.core.config.ConfigCompiler;
import io.remora.core.config.ConfigException;
import io.remora.core.config.ConfigLoader;
import io.remora.core.protocol.ProtocolRegistry;
import io.remora.testing.TestSidecar;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Who may do what on the admin API: POST-only mutations, the bearer token, the Unix-socket-only mode, bad input. */
class AdminAccessTest {

    private static final String TOKEN = "t0k3n-for-tests-0123456789abcdef";

    @Test
    void mutatingPathsAnswer405ToGetAndChangeNothing() throws Exception {
        try (AdminFixture f = AdminFixture.start()) {
            for (String path : List.of("/healthcheck/fail", "/healthcheck/ok", "/drain_listeners",
                    "/api/v1/enable_log", "/api/v1/disable_log", "/api/v1/drain")) {
                Reply r = f.admin.get(path);
                if (path.equals("/api/v1/drain")) {
                    assertEquals(200, r.status(), "GET /api/v1/drain shows progress");
                    continue;
                }
                assertEquals(405, r.status(), path);
                assertTrue(r.isText(), path);
                assertEquals("POST", r.allow(), path);
                assertEquals("Method GET not allowed, POST required.\n", r.body(), path);
            }
            assertEquals(200, f.admin.get("/ready").status(), "GET /healthcheck/fail did not fail health checks");
            assertEquals(405, f.admin.send("DELETE", "/stats", null, null).status());
            assertEquals("GET, HEAD", f.admin.send("DELETE", "/stats", null, null).allow());
            // update_loglevel has always taken PUT as well as POST: kept for existing scripts
            Reply put = f.admin.send("PUT", "/api/v1/update_loglevel", "{\"log_level\":\"WARN\",\"log_path\":\"\"}",
                    null);
            assertEquals(200, put.status());
            assertEquals("update logger success", put.body());
        }
    }

    @Test
    void tokenGuardsEveryMutationButNotReads() throws Exception {
        try (AdminFixture f = AdminFixture.start("{\"port\":0,\"token\":\"" + TOKEN + "\"}")) {
            Reply none = f.admin.post("/healthcheck/fail");
            assertEquals(401, none.status());
            assertTrue(none.isText());
            assertEquals("Bearer realm=\"remora-admin\"", none.authenticate());
            assertTrue(none.body().contains("Authorization: Bearer"), none.body());
            assertFalse(none.body().contains(TOKEN));
            assertEquals(401, f.admin.send("POST", "/healthcheck/fail", null, TOKEN + "x").status());
            assertEquals(401, f.admin.send("PUT", "/api/v1/update_loglevel", "{\"log_level\":\"INFO\"}", null)
                    .status());
            assertEquals(401, f.admin.send("POST", "/api/v1/update_loglevel", "{\"log_level\":\"INFO\"}", "")
                    .status());
            assertEquals(200, f.admin.get("/ready").status(), "the refused requests changed nothing");

            assertEquals(200, f.admin.send("POST", "/healthcheck/fail", null, TOKEN).status());
            assertEquals(503, f.admin.get("/ready").status());
            assertEquals(200, f.admin.get("/stats").status(), "reads stay open");
            assertEquals(200, f.admin.get("/api/v1/config_dump").status());

            // the token is a secret: no dump shows it
            for (String dump : List.of("/api/v1/config_dump", "/config_dump", "/api/v1/config_dump?mosnconfig",
                    "/server_info")) {
                assertFalse(f.admin.get(dump).body().contains(TOKEN), dump);
            }
            assertEquals("[redacted]", f.admin.get("/api/v1/config_dump").json().get("config").get("admin")
                    .get("token").asText());
            assertTrue(f.admin.get("/api/v1/features").json().get("AdminToken").asBoolean());
        }
    }

    @Test
    void tokenRequiredForReadsGuardsReadsButNotProbes() throws Exception {
        try (AdminFixture f = AdminFixture.start("{\"port\":0,\"token\":\"" + TOKEN
                + "\",\"token_required_for_reads\":true}")) {
            assertEquals(401, f.admin.get("/stats").status());
            assertEquals(401, f.admin.get("/api/v1/get_loglevel").status());
            assertEquals(401, f.admin.get("/no/such/path").status(), "not even the list of paths");
            assertEquals(200, f.admin.send("GET", "/stats", null, TOKEN).status());
            for (String probe : List.of("/ready", "/api/v1/ready", "/healthz")) {
                assertEquals(200, f.admin.get(probe).status(), probe);
            }
            assertTrue(f.admin.send("GET", "/api/v1/config_dump", null, TOKEN).json().get("config").get("admin")
                    .get("token_required_for_reads").asBoolean(), "booleans are not redacted");
        }
    }

    @Test
    void unixSocketOnlyServesTheApiWithoutATcpPort(@TempDir Path dir) throws Exception {
        Path sock = dir.resolve("admin.sock");
        try (AdminFixture f = AdminFixture.start("{\"unix_socket\":\"" + sock + "\"}")) {
            assertNull(f.sidecar.sidecar().adminAddress(), "no TCP admin port");
            assertTrue(Files.exists(sock, LinkOption.NOFOLLOW_LINKS));
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(sock)));

            Reply ready = AdminClient.curlUnix(sock, "GET", "/ready", null, null);
            assertEquals(200, ready.status());
            assertEquals("LIVE\n", ready.body());
            Reply levels = AdminClient.curlUnix(sock, "GET", "/api/v1/get_loglevel", null, null);
            assertEquals(200, levels.status());
            assertTrue(levels.isJson(), levels.contentType());
            assertEquals("ERROR", levels.json().get("").asText());
            Reply update = AdminClient.curlUnix(sock, "POST", "/api/v1/update_loglevel",
                    "{\"log_level\":\"INFO\",\"log_path\":\"\"}", null);
            assertEquals(200, update.status());
            assertEquals("update logger success", update.body());
            assertEquals(405, AdminClient.curlUnix(sock, "GET", "/healthcheck/fail", null, null).status());
            Reply bootstrap = AdminClient.curlUnix(sock, "GET", "/config_dump?mask=bootstrap.admin", null, null);
            assertEquals(sock.toString(), bootstrap.json().get("configs").get(0).get("bootstrap").get("admin")
                    .get("address").get("pipe").get("path").asText());
        }
        assertFalse(Files.exists(sock, LinkOption.NOFOLLOW_LINKS), "the socket file is removed at stop");
    }

    @Test
    void unixSocketWithTokenAndTcpPortServesBoth(@TempDir Path dir) throws Exception {
        Path sock = dir.resolve("a.sock");
        int port = TestSidecar.freePort();
        try (AdminFixture f = AdminFixture.start("{\"port\":" + port + ",\"unix_socket\":\"" + sock
                + "\",\"unix_socket_mode\":\"0660\",\"token\":\"" + TOKEN + "\"}")) {
            assertEquals(port, f.sidecar.adminPort());
            assertEquals("rw-rw----", PosixFilePermissions.toString(Files.getPosixFilePermissions(sock)));
            assertEquals(401, AdminClient.curlUnix(sock, "POST", "/healthcheck/fail", null, null).status());
            assertEquals(200, AdminClient.curlUnix(sock, "POST", "/healthcheck/fail", null, TOKEN).status());
            assertEquals(503, f.admin.get("/ready").status(), "one sidecar behind both sockets");
        }
    }

    @Test
    void aStaleSocketFileIsReplacedAndARegularFileIsNot(@TempDir Path dir) throws Exception {
        Path sock = dir.resolve("admin.sock");
        AdminFixture first = AdminFixture.start("{\"unix_socket\":\"" + sock + "\"}");
        // a second sidecar on the same path takes it over (an upgrade's new process does this)
        try (AdminFixture second = AdminFixture.start("{\"unix_socket\":\"" + sock + "\"}")) {
            assertEquals(200, AdminClient.curlUnix(sock, "GET", "/ready", null, null).status());
            first.close();
            assertTrue(Files.exists(sock, LinkOption.NOFOLLOW_LINKS), "the old one left the new one's socket");
            assertEquals(200, AdminClient.curlUnix(sock, "GET", "/healthz", null, null).status());
        } finally {
            first.close();
        }
        Path file = dir.resolve("not-a-socket");
        Files.writeString(file, "precious");
        Exception e = assertThrows(Exception.class,
                () -> AdminFixture.start("{\"unix_socket\":\"" + file + "\"}").close());
        assertTrue(e.getMessage().contains("exists and is not a socket"), e.getMessage());
        assertEquals("precious", Files.readString(file));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '~', value = {
        "relative socket ~ {\"unix_socket\":\"admin.sock\"} ~ admin.unix_socket ~ absolute path",
        "socket too long ~ {\"unix_socket\":\"/tmp/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                + "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock\"}"
                + " ~ admin.unix_socket ~ at most 107",
        "directory socket ~ {\"unix_socket\":\"/tmp/\"} ~ admin.unix_socket ~ must name a file",
        "bad mode ~ {\"unix_socket\":\"/tmp/a.sock\",\"unix_socket_mode\":\"rw\"} ~ admin.unix_socket_mode ~ octal",
        "mode without socket ~ {\"unix_socket_mode\":\"0600\"} ~ admin.unix_socket_mode ~ needs admin.unix_socket",
        "short token ~ {\"token\":\"abc\"} ~ admin.token ~ at least 16",
        "token with space ~ {\"token\":\"0123456789 abcdefgh\"} ~ admin.token ~ without spaces",
        "reads without token ~ {\"token_required_for_reads\":true} ~ admin.token_required_for_reads"
                + " ~ needs admin.token",
        "unknown key ~ {\"tokn\":\"x\"} ~ admin.tokn ~ unknown field",
    })
    void rejectsBadAdminSettingsNamingTheField(String name, String admin, String path, String message) {
        String json = "{\"admin\":" + admin.strip() + ",\"listeners\":[]}";
        ConfigException e = assertThrows(ConfigException.class, () -> new ConfigCompiler(ProtocolRegistry.load(),
                Map.of(), new HostRegistry(), null).compile(ConfigLoader.parse(json), 1, "test"));
        assertEquals(path.strip(), e.path(), e.getMessage());
        assertTrue(e.getMessage().contains(message.strip()), e.getMessage());
    }

    @Test
    void badInputGetsAPreciseStatusAndNeverAStackTrace() throws Exception {
        try (AdminFixture f = AdminFixture.start()) {
            Object[][] cases = {
                {"POST", "/api/v1/update_loglevel", "not json", 400},
                {"POST", "/api/v1/update_loglevel", "[1,2]", 400},
                {"POST", "/api/v1/update_loglevel", "{\"log_level\":\"LOUD\"}", 400},
                {"POST", "/api/v1/disable_log", "/nope.log", 400},
                {"GET", "/api/v1/config_dump?cluster=nope", null, 404},
                {"GET", "/api/v1/config_dump?a&b", null, 400},
                {"GET", "/api/v1/stats?key=nope", null, 404},
                {"GET", "/api/v1/env", null, 400},
                {"GET", "/api/v1/features?key=nope", null, 404},
                {"GET", "/api/v1/plugin?status=nope", null, 404},
                {"GET", "/api/v1/states?format=nope", null, 400},
                {"GET", "/stats?filter=(", null, 400},
                {"GET", "/stats?format=nope", null, 400},
                {"GET", "/stats/prometheus?filter=(", null, 400},
                {"GET", "/config_dump?resource=bootstrap", null, 400},
                {"GET", "/config_dump?resource=nope", null, 404},
                {"GET", "/config_dump?name_regex=(", null, 400},
                {"GET", "/clusters?format=nope", null, 400},
                {"GET", "/listeners?format=nope", null, 400},
                {"POST", "/logging?level=nope", null, 400},
                {"GET", "/no/such/path", null, 404},
            };
            for (Object[] c : cases) {
                Reply r = f.admin.send((String) c[0], (String) c[1], (String) c[2], null);
                String what = c[0] + " " + c[1] + " -> " + r.status() + " " + r.body();
                assertEquals(c[3], r.status(), what);
                assertFalse(r.body().contains("\tat ") || r.body().contains("Exception"), what);
                assertFalse(r.body().isBlank(), what);
            }
        }
    }
}
