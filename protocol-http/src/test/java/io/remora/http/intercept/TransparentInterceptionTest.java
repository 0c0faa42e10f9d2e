package io.remora.http.intercept;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.remora.core.transport.Transport;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Transparent interception for real: two network namespaces joined by a veth pair (10.250.0.1 "client" and
 * 10.250.0.2 "app", nothing else), {@code deploy/interception/remora-iptables.sh} installed in the app namespace and
 * a sidecar process (uid 0) with transparent inbound and outbound listeners running there. Callers do not know the
 * sidecar exists: they call real addresses. Needs root, {@code ip}, {@code iptables}, {@code setpriv} and a kernel
 * with netns, TPROXY and the socket/owner matches; skipped otherwise.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TransparentInterceptionTest {

    private static final String CLIENT_IP = "10.250.0.1";
    private static final String APP_IP = "10.250.0.2";
    /** A user that is not the sidecar's (uid 0 here): its outbound calls are intercepted. */
    private static final String APP_USER = "65534";
    private static final int ADMIN_PORT = 15000;

    private static final String CONFIG = """
            {"node":{"app":"intercepted-app"},
             "admin":{"port":%d},
             "listeners":[
              {"name":"inbound","address":"0.0.0.0:15006","protocol":"http","direction":"inbound","transparent":true,
               "routes":[{"match":{"destination":":8080"},"cluster":"inbound_app"}]},
              {"name":"outbound","address":"127.0.0.1:15001","protocol":"http","direction":"outbound","transparent":true,
               "routes":[{"match":{"destination":"10.250.0.1:8081"},"cluster":"rerouted"},
                         {"match":{"destination":"10.250.0.1/32:8083"},"cluster":"passthrough"}]}],
             "clusters":[{"name":"inbound_app","type":"original_dst"},
                         {"name":"rerouted","hosts":[{"address":"10.250.0.1:8082"}]},
                         {"name":"passthrough","type":"original_dst"}]}""".formatted(ADMIN_PORT);

    private static String clientNs;
    private static String appNs;
    private static Path work;
    private static Path script;
    private static final List<Process> processes = new ArrayList<>();
    private static Peer client;
    private static Peer appRoot;
    private static Peer appUser;
    private static Process sidecar;

    @BeforeAll
    static void setUp() throws Exception {
        assumeTrue(System.getProperty("os.name").toLowerCase().contains("linux"), "interception test needs Linux");
        assumeTrue(uid() == 0, "interception test needs root (netns, iptables, IP_TRANSPARENT); running as uid "
                + uid() + ": skipped");
        for (String bin : List.of("ip", "iptables", "setpriv", "bash")) {
            assumeTrue(which(bin) != null, "interception test needs the '" + bin + "' binary (packages iproute2,"
                    + " iptables, util-linux): skipped");
        }
        assumeTrue(Transport.get().isEpoll(), "interception test needs the epoll transport: skipped");
        script = findScript();
        String id = Long.toString(ProcessHandle.current().pid());
        Result made = run("ip", "netns", "add", "remora-itc-" + id);
        assumeTrue(made.ok(), "cannot create a network namespace: " + made.output());
        clientNs = "remora-itc-" + id;
        Result made2 = run("ip", "netns", "add", "remora-ita-" + id);
        assumeTrue(made2.ok(), "cannot create a network namespace: " + made2.output());
        appNs = "remora-ita-" + id;
        // The veth pair is created inside the client namespace, its peer moved straight into the app's: the host's
        // own namespace never sees these links or addresses.
        must("ip", "-n", clientNs, "link", "add", "rmrc" + id, "type", "veth", "peer", "name", "rmra" + id,
                "netns", appNs);
        must("ip", "-n", clientNs, "addr", "add", CLIENT_IP + "/30", "dev", "rmrc" + id);
        must("ip", "-n", appNs, "addr", "add", APP_IP + "/30", "dev", "rmra" + id);
        for (String[] l : new String[][] {{clientNs, "lo"}, {clientNs, "rmrc" + id}, {appNs, "lo"},
            {appNs, "rmra" + id}}) {
            must("ip", "-n", l[0], "link", "set", l[1], "up");
        }
        probeKernel();

        work = Files.createTempDirectory("remora-intercept");
        Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path peerClasses = copyPeerClass();
        client = Peer.start(List.of("ip", "netns", "exec", clientNs), peerClasses, "client",
                CLIENT_IP + ":8081:server8081", CLIENT_IP + ":8082:server8082", CLIENT_IP + ":8083:server8083",
                CLIENT_IP + ":8084:server8084", CLIENT_IP + ":8085:server8085");
        appRoot = Peer.start(List.of("ip", "netns", "exec", appNs), peerClasses, "app",
                "0.0.0.0:8080:app8080", "0.0.0.0:9090:app9090");
        appUser = Peer.start(List.of("ip", "netns", "exec", appNs, "setpriv", "--reuid", APP_USER, "--regid", APP_USER,
                "--clear-groups"), peerClasses, "app-user");

        Result rules = run("ip", "netns", "exec", appNs, "bash", script.toString(), "--inbound-ports", "*",
                "--exclude-inbound-ports", "9090", "--exclude-outbound-ports", "8085", "--sidecar-uid", "0",
                "--inbound-listener-port", "15006", "--outbound-listener-port", "15001");
        assertTrue(rules.ok(), "remora-iptables.sh failed: " + rules.output());

        Path config = work.resolve("remora.json");
        Files.writeString(config, CONFIG);
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", appNs,
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx128m",
                "-cp", System.getProperty("java.class.path"), "io.remora.core.Sidecar", "--config", config.toString(),
                "--log-dir", work.resolve("logs").toString()));
        sidecar = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(work.resolve("sidecar.out").toFile())
                .start();
        processes.add(sidecar);
        awaitSidecarReady();
    }

    @AfterAll
    static void tearDown() throws Exception {
        for (Peer p : new Peer[] {client, appRoot, appUser}) {
            if (p != null) {
                p.quit();
            }
        }
        for (Process p : processes) {
            p.destroy();
            if (!p.waitFor(5, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        }
        if (appNs != null) {
            if (script != null) {
                run("ip", "netns", "exec", appNs, "bash", script.toString(), "--cleanup");
            }
            run("ip", "netns", "del", appNs); // takes the veth pair with it
        }
        if (clientNs != null) {
            run("ip", "netns", "del", clientNs);
        }
        if (work != null) {
            try (Stream<Path> files = Files.walk(work)) {
                files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    // ------------------------------------------------------------------ inbound

    @Test
    @Order(1)
    void inboundCallToTheAppAddressGoesThroughTheSidecar() throws Exception {
        String r = client.get("http://" + APP_IP + ":8080/inbound");
        // The app sees the sidecar's connection (from its own address), not the client's.
        assertEquals("OK 200 app8080 saw GET /inbound from " + APP_IP + " to " + APP_IP + ":8080", r, diagnostics());
        // Original destination as the target, the real client as the caller.
        String line = awaitDigest("rpc-server-digest.log", "," + APP_IP + ":8080,");
        assertTrue(line.endsWith("," + CLIENT_IP), "caller is the real client: " + line);
        assertTrue(requests("inbound") >= 1, "inbound listener counted the call");
    }

    @Test
    @Order(2)
    void excludedInboundPortBypassesTheSidecar() throws Exception {
        String before = metrics();
        String r = client.get("http://" + APP_IP + ":9090/direct");
        assertEquals("OK 200 app9090 saw GET /direct from " + CLIENT_IP + " to " + APP_IP + ":9090", r);
        assertEquals(sum(before, "remora_downstream_connections_total"),
                sum(metrics(), "remora_downstream_connections_total"), "the sidecar saw no connection");
    }

    // ------------------------------------------------------------------ outbound

    @Test
    @Order(3)
    void outboundCallIsRoutedByItsOriginalDestination() throws Exception {
        String r = appUser.get("http://" + CLIENT_IP + ":8081/routed");
        // The route for 10.250.0.1:8081 sends to cluster "rerouted" (8082): proof that the sidecar routed it.
        assertEquals("OK 200 server8082 saw GET /routed from " + APP_IP + " to " + CLIENT_IP + ":8082", r,
                diagnostics());
        assertTrue(awaitDigest("rpc-client-digest.log", "," + CLIENT_IP + ":8082,").endsWith("," + APP_IP));
    }

    @Test
    @Order(4)
    void outboundCallToOriginalDstClusterPassesThrough() throws Exception {
        String r = appUser.get("http://" + CLIENT_IP + ":8083/pass");
        assertEquals("OK 200 server8083 saw GET /pass from " + APP_IP + " to " + CLIENT_IP + ":8083", r,
                diagnostics());
        assertTrue(awaitDigest("rpc-client-digest.log", "," + CLIENT_IP + ":8083,").contains(",00,"));
    }

    @Test
    @Order(5)
    void outboundCallWithoutRouteIsBlockedBySidecar() throws Exception {
        double before = requests("outbound");
        String r = appUser.get("http://" + CLIENT_IP + ":8084/blocked");
        assertTrue(r.startsWith("OK 404 "), "answered by the sidecar with its no-route error: " + r);
        assertFalse(r.contains("server8084"), "never reached the server: " + r);
        assertEquals(before + 1, requests("outbound"), 0.0);
    }

    @Test
    @Order(6)
    void sidecarUidIsNeverIntercepted() throws Exception {
        String before = metrics();
        String r = appRoot.get("http://" + CLIENT_IP + ":8081/own");
        // Not rerouted to 8082: uid 0 (the sidecar's) goes straight out.
        assertEquals("OK 200 server8081 saw GET /own from " + APP_IP + " to " + CLIENT_IP + ":8081", r);
        assertEquals(sum(before, "remora_downstream_connections_total"),
                sum(metrics(), "remora_downstream_connections_total"));
    }

    @Test
    @Order(7)
    void excludedOutboundPortBypassesTheSidecar() throws Exception {
        String before = metrics();
        String r = appUser.get("http://" + CLIENT_IP + ":8085/excluded");
        assertEquals("OK 200 server8085 saw GET /excluded from " + APP_IP + " to " + CLIENT_IP + ":8085", r);
        assertEquals(sum(before, "remora_downstream_connections_total"),
                sum(metrics(), "remora_downstream_connections_total"));
    }

    @Test
    @Order(8)
    void cleanupRemovesEveryRuleAndTrafficFlowsDirectly() throws Exception {
        Result r = run("ip", "netns", "exec", appNs, "bash", script.toString(), "--cleanup");
        assertTrue(r.ok(), r.output());
        String mangle = run("ip", "netns", "exec", appNs, "iptables", "-t", "mangle", "-S").output();
        assertFalse(mangle.contains("REMORA"), mangle);
        String rules = run("ip", "-n", appNs, "rule", "show").output();
        assertFalse(rules.contains("fwmark"), rules);
        assertEquals("", run("ip", "-n", appNs, "route", "show", "table", "133").output().strip());
        assertEquals("OK 200 app8080 saw GET /after from " + CLIENT_IP + " to " + APP_IP + ":8080",
                client.get("http://" + APP_IP + ":8080/after"));
        assertEquals("OK 200 server8081 saw GET /after from " + APP_IP + " to " + CLIENT_IP + ":8081",
                appUser.get("http://" + CLIENT_IP + ":8081/after"));
    }

    // ------------------------------------------------------------------ helpers

    private static String metrics() throws Exception {
        String r = appRoot.get("http://127.0.0.1:" + ADMIN_PORT + "/metrics");
        assertTrue(r.startsWith("OK 200 "), r);
        return r;
    }

    /** Sum of every series of {@code name} in the (one-line) metrics text. */
    private static double sum(String metrics, String name) {
        Matcher m = Pattern.compile(Pattern.quote(name) + "(\\{[^}]*\\})? ([0-9.eE+-]+)").matcher(metrics);
        double total = 0;
        while (m.find()) {
            total += Double.parseDouble(m.group(2));
        }
        return total;
    }

    private static double requests(String listener) throws Exception {
        Matcher m = Pattern.compile("remora_downstream_requests_total\\{([^}]*)\\} ([0-9.eE+-]+)").matcher(metrics());
        double total = 0;
        while (m.find()) {
            if (m.group(1).contains("listener=\"" + listener + "\"")) {
                total += Double.parseDouble(m.group(2));
            }
        }
        return total;
    }

    /** Waits (digests are written by a background thread) for a digest line containing {@code needle}. */
    private static String awaitDigest(String file, String needle) throws Exception {
        Path f = work.resolve("logs").resolve(file);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            if (Files.exists(f)) {
                for (String line : Files.readAllLines(f)) {
                    if (line.contains(needle)) {
                        return line;
                    }
                }
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no digest line with " + needle + " in " + f + "\n" + diagnostics());
    }

    private static void awaitSidecarReady() throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
        String last = "";
        while (System.nanoTime() < deadline) {
            if (!sidecar.isAlive()) {
                throw new AssertionError("sidecar exited: " + diagnostics());
            }
            last = appRoot.get("http://127.0.0.1:" + ADMIN_PORT + "/ready");
            if (last.startsWith("OK 200")) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("sidecar not ready: " + last + "\n" + diagnostics());
    }

    private static String diagnostics() {
        StringBuilder b = new StringBuilder();
        for (Path f : new Path[] {work.resolve("sidecar.out"), work.resolve("logs").resolve("default.log")}) {
            try {
                b.append("---- ").append(f).append('\n').append(Files.exists(f) ? Files.readString(f) : "(none)")
                        .append('\n');
            } catch (IOException e) {
                b.append(e).append('\n');
            }
        }
        return b.toString();
    }

    /** Fails the assumption (skips) when the kernel lacks what the rules need; the namespace is thrown away after. */
    private static void probeKernel() throws Exception {
        List<String> ipt = List.of("ip", "netns", "exec", appNs, "iptables", "-t", "mangle");
        List<List<String>> probes = List.of(List.of("-N", "REMORA_PROBE"),
                List.of("-A", "REMORA_PROBE", "-p", "tcp", "-m", "socket", "--transparent", "-j", "RETURN"),
                List.of("-A", "REMORA_PROBE", "-m", "owner", "--uid-owner", "0", "-j", "RETURN"),
                List.of("-A", "REMORA_PROBE", "-m", "conntrack", "--ctdir", "REPLY", "-j", "RETURN"),
                List.of("-A", "REMORA_PROBE", "-m", "addrtype", "--dst-type", "LOCAL", "-j", "RETURN"),
                List.of("-A", "REMORA_PROBE", "-p", "tcp", "-j", "TPROXY", "--on-port", "1", "--tproxy-mark", "0x1/0x1"),
                List.of("-F", "REMORA_PROBE"), List.of("-X", "REMORA_PROBE"));
        for (List<String> probe : probes) {
            List<String> cmd = new ArrayList<>(ipt);
            cmd.addAll(probe);
            Result r = run(cmd.toArray(new String[0]));
            assumeTrue(r.ok(), "kernel/iptables lacks what interception needs (" + String.join(" ", probe) + "): "
                    + r.output().strip() + ": skipped");
        }
    }

    private static Path copyPeerClass() throws IOException {
        Path dir = work.resolve("peer");
        Path pkg = dir.resolve(NetnsPeer.class.getPackageName().replace('.', '/'));
        Files.createDirectories(pkg);
        try (InputStream in = NetnsPeer.class.getResourceAsStream("NetnsPeer.class")) {
            Files.write(pkg.resolve("NetnsPeer.class"), in.readAllBytes());
        }
        for (Path p = pkg; !p.equals(work); p = p.getParent()) {
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        return dir;
    }

    private static Path findScript() {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            Path s = d.resolve("deploy/interception/remora-iptables.sh");
            if (Files.isRegularFile(s)) {
                return s;
            }
        }
        throw new AssertionError("deploy/interception/remora-iptables.sh not found above " + Path.of("").toAbsolutePath());
    }

    private static long uid() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    return Long.parseLong(line.split("\\s+")[1]);
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    private static Path which(String bin) {
        String path = System.getenv().getOrDefault("PATH", "") + ":/usr/sbin:/sbin:/usr/bin:/bin";
        for (String d : path.split(":")) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, bin))) {
                return Path.of(d, bin);
            }
        }
        return null;
    }

    private record Result(int code, String output) {
        boolean ok() {
            return code == 0;
        }
    }

    private static Result run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return new Result(-1, String.join(" ", cmd) + ": timed out");
        }
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    private static void must(String... cmd) throws Exception {
        Result r = run(cmd);
        assertTrue(r.ok(), String.join(" ", cmd) + " failed: " + r.output());
    }

    /** A {@link NetnsPeer} process: HTTP servers in its namespace and a line-based client. */
    private static final class Peer {
        private final Process process;
        private final Writer in;
        private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();

        private Peer(Process process) {
            this.process = process;
            this.in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
            Thread reader = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    String l;
                    while ((l = r.readLine()) != null) {
                        lines.add(l);
                    }
                } catch (IOException e) {
                    lines.add("ERR peer output: " + e);
                }
            }, "netns-peer-reader");
            reader.setDaemon(true);
            reader.start();
        }

        static Peer start(List<String> prefix, Path classes, String name, String... servers) throws Exception {
            List<String> cmd = new ArrayList<>(prefix);
            cmd.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx48m",
                    "-XX:TieredStopAtLevel=1", "-XX:-UsePerfData", "-cp", classes.toString(),
                    NetnsPeer.class.getName()));
            cmd.addAll(List.of(servers));
            Process p = new ProcessBuilder(cmd).redirectError(work.resolve(name + ".err").toFile()).start();
            processes.add(p);
            Peer peer = new Peer(p);
            String first = peer.lines.poll(30, TimeUnit.SECONDS);
            if (!"READY".equals(first)) {
                throw new AssertionError("peer " + name + " did not start: " + first + " "
                        + Files.readString(work.resolve(name + ".err")));
            }
            return peer;
        }

        synchronized String get(String url) throws Exception {
            in.write("GET " + url + "\n");
            in.flush();
            String r = lines.poll(20, TimeUnit.SECONDS);
            if (r == null) {
                throw new AssertionError("no answer from peer for " + url);
            }
            return r;
        }

        void quit() {
            try {
                in.write("QUIT\n");
                in.flush();
                process.waitFor(5, TimeUnit.SECONDS);
            } catch (IOException | InterruptedException e) {
                // destroyed below
            }
        }
    }
}
