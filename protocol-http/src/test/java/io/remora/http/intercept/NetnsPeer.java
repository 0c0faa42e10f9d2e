package io.remora.http.intercept;

import com.sun.net.httpserver.HttpServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.HttpURLConnection;
import java.net.InetSocketAddress;
import java.net.Proxy;
import java.net.URL;
import java.nio.charset.StandardCharsets;

/**
 * A test peer run inside a network namespace ({@code ip netns exec}), JDK classes only so it can run as an unprivileged
 * user from a copy of this one class file. Serves {@code ip:port:name} HTTP servers answering
 * {@code "<name> saw <method> <path> from <remote ip> to <local ip:port>"}, prints {@code READY}, then reads commands
 * from stdin: {@code GET <url>} prints {@code OK <status> <body>} or {@code ERR <problem>}; {@code QUIT} exits.
 */
public final class NetnsPeer {

    private NetnsPeer() {
    }

    public static void main(String[] args) throws IOException {
        System.setProperty("http.keepAlive", "false"); // one connection per call: each is intercepted on its own
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        for (String spec : args) {
            String[] p = spec.split(":");
            String name = p[2];
            HttpServer s = HttpServer.create(new InetSocketAddress(p[0], Integer.parseInt(p[1])), 64);
            s.createContext("/", ex -> {
                try (ex) {
                    ex.getRequestBody().readAllBytes();
                    byte[] body = (name + " saw " + ex.getRequestMethod() + " " + ex.getRequestURI().getPath()
                            + " from " + ex.getRemoteAddress().getAddress().getHostAddress() + " to "
                            + ex.getLocalAddress().getAddress().getHostAddress() + ":" + ex.getLocalAddress().getPort())
                            .getBytes(StandardCharsets.UTF_8);
                    ex.sendResponseHeaders(200, body.length);
                    ex.getResponseBody().write(body);
                }
            });
            s.start();
        }
        out.println("READY");
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            if (line.equals("QUIT")) {
                break;
            }
            if (line.startsWith("GET ")) {
                out.println(get(line.substring(4).trim()));
            } else {
                out.println("ERR unknown command " + line);
            }
        }
        System.exit(0);
    }

    private static String get(String url) {
        try {
            HttpURLConnection c = (HttpURLConnection) new URL(url).openConnection(Proxy.NO_PROXY);
            c.setConnectTimeout(5000);
            c.setReadTimeout(5000);
            int status = c.getResponseCode();
            InputStream body = status >= 400 ? c.getErrorStream() : c.getInputStream();
            String text = body == null ? "" : new String(body.readAllBytes(), StandardCharsets.UTF_8);
            c.disconnect();
            return "OK " + status + " " + text.replace('\n', ' ').replace('\r', ' ');
        } catch (IOException | RuntimeException e) {
            return "ERR " + e;
        }
    }
}
