package io.remora.core.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A real HTTP client for the admin API: TCP with java.net.http, a Unix socket with {@code curl --unix-socket}. */
final class AdminClient {

    static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private final int port;

    AdminClient(int port) {
        this.port = port;
    }

    /** Status, Content-Type, Allow / WWW-Authenticate headers and body of one exchange. */
    record Reply(int status, String contentType, String allow, String authenticate, String body) {

        JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (IOException e) {
                throw new AssertionError("not JSON (" + status + "): " + body, e);
            }
        }

        List<String> lines() {
            List<String> l = new ArrayList<>(List.of(body.split("\n")));
            l.removeIf(String::isEmpty);
            return l;
        }

        boolean isJson() {
            return contentType != null && contentType.startsWith("application/json");
        }

        boolean isText() {
            return contentType != null && contentType.startsWith("text/plain");
        }
    }

    Reply get(String path) {
        return send("GET", path, null, null);
    }

    Reply post(String path) {
        return send("POST", path, null, null);
    }

    Reply post(String path, String body) {
        return send("POST", path, body, null);
    }

    Reply send(String method, String path, String body, String bearer) {
        try {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                    .timeout(Duration.ofSeconds(10))
                    .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                            : HttpRequest.BodyPublishers.ofString(body));
            if (bearer != null) {
                b.header("Authorization", "Bearer " + bearer);
            }
            HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
            return new Reply(r.statusCode(), r.headers().firstValue("content-type").orElse(null),
                    r.headers().firstValue("allow").orElse(null),
                    r.headers().firstValue("www-authenticate").orElse(null), r.body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** One exchange over the Unix socket {@code socket} with curl, as an operator would run it. */
    static Reply curlUnix(Path socket, String method, String path, String body, String bearer) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "--max-time", "10", "--unix-socket",
                socket.toString(), "-X", method, "-o", "-", "-w", "\n%{http_code} %{content_type}"));
        if (body != null) {
            cmd.add("--data-binary");
            cmd.add(body);
        }
        if (bearer != null) {
            cmd.add("-H");
            cmd.add("Authorization: Bearer " + bearer);
        }
        cmd.add("http://localhost" + path);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(15, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("curl did not finish: " + out);
        }
        int nl = out.lastIndexOf('\n');
        String[] meta = out.substring(nl + 1).split(" ", 2);
        if (p.exitValue() != 0) {
            throw new AssertionError("curl exited " + p.exitValue() + ": " + out);
        }
        return new Reply(Integer.parseInt(meta[0]), meta.length > 1 ? meta[1] : null, null, null,
                out.substring(0, nl));
    }
}
