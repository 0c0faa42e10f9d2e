package io.remora.attack;

import io.remora.testing.TestSidecar;
import io.remora.testkit.dubbo.DemoProvider;
import io.remora.testkit.dubbo.DemoService;
import io.remora.testkit.sofa.HelloService;
import io.remora.testkit.sofa.SofaRpcPeers;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * One sidecar process under attack and everything around it: a real SOFARPC provider, a real Dubbo provider, an HTTP
 * origin, two providers that never answer ({@code attack.Hold}: one per RPC protocol), and the healthy clients. The
 * listeners: Bolt, Dubbo and HTTP (HTTP/1.1 and h2c), with the product's defaults unless {@code limits},
 * {@code overload} or the HTTP options say otherwise.
 */
final class Rig implements AutoCloseable {

    static final String HELLO = HelloService.class.getName() + ":1.0";
    static final String DEMO = DemoService.class.getName();
    static final String HOLD_BOLT = "attack.Hold:1.0";
    static final String HOLD_DUBBO = "attack.Hold";
    static final String STUCK_BOLT = "attack.Stuck:1.0";

    final String name;
    final SofaRpcPeers sofa = new SofaRpcPeers();
    final DemoProvider demo;
    final Origins.HttpOrigin origin;
    final Origins.SlowUpstream holdBolt;
    final Origins.SlowUpstream holdDubbo;
    final Origins.SlowUpstream holdHttp;
    /** A Bolt provider that never reads, behind a cluster with max_queued_bytes 4 MiB. */
    final Origins.SlowUpstream stuck;
    int boltPort;
    int dubboPort;
    int httpPort;
    int adminPort;
    final RemoraProcess remora;
    final HealthyClients healthy;

    private Rig(String name, String limits, String overload, String httpOptions, Map<String, String> env,
                boolean holdPaused) throws Exception {
        this.name = name;
        int sofaPort = sofa.provide(HelloService.class, new Hello(), null);
        demo = DemoProvider.start("attack-" + name);
        origin = new Origins.HttpOrigin();
        holdBolt = new Origins.SlowUpstream(holdPaused);
        holdDubbo = new Origins.SlowUpstream(holdPaused);
        holdHttp = new Origins.SlowUpstream(false);
        stuck = new Origins.SlowUpstream(true);
        RemoraProcess started = null;
        for (int attempt = 1; started == null; attempt++) {
            // free ports, chosen just before the start; another process may take one meanwhile: then new ones
            boltPort = TestSidecar.freePort();
            dubboPort = TestSidecar.freePort();
            httpPort = TestSidecar.freePort();
            adminPort = TestSidecar.freePort();
            String config = """
                    {"node": {"id": "attack-%1$s", "app": "attack-client"},
                     "admin": {"address": "127.0.0.1", "port": %2$d},
                     "log": {"level": "ERROR"},
                     %3$s %4$s
                     "listeners": [
                      {"name": "egress_bolt", "address": "127.0.0.1:%5$d", "protocol": "bolt", "routes": [
                        {"match": {"service": "%8$s"}, "cluster": "sofa", "timeout_ms": 3000},
                        {"match": {"service": "%9$s"}, "cluster": "hold_bolt", "timeout_ms": 2000},
                        {"match": {"service": "%19$s"}, "cluster": "stuck", "timeout_ms": 3000}]},
                      {"name": "egress_dubbo", "address": "127.0.0.1:%6$d", "protocol": "dubbo", "routes": [
                        {"match": {"service": "%10$s", "headers": [{"name": "group", "exact": "g1"}]},
                         "cluster": "demo", "timeout_ms": 3000},
                        {"match": {"service": "%11$s"}, "cluster": "hold_dubbo", "timeout_ms": 2000}]},
                      {"name": "egress_http", "address": "127.0.0.1:%7$d", "protocol": "http",
                       "options": {"request_header_timeout_ms": "2000"%12$s},
                       "routes": [{"match": {"prefix": "/hold"}, "cluster": "hold_http", "timeout_ms": 2000},
                                  {"match": {"prefix": "/"}, "cluster": "origin", "timeout_ms": 3000}]}],
                     "clusters": [
                      {"name": "sofa", "hosts": [{"address": "127.0.0.1:%13$d"}]},
                      {"name": "demo", "hosts": [{"address": "127.0.0.1:%14$d"}]},
                      {"name": "origin", "hosts": [{"address": "127.0.0.1:%15$d"}]},
                      {"name": "hold_bolt", "hosts": [{"address": "127.0.0.1:%16$d"}]},
                      {"name": "hold_dubbo", "hosts": [{"address": "127.0.0.1:%17$d"}]},
                      {"name": "hold_http", "hosts": [{"address": "127.0.0.1:%18$d"}]},
                      {"name": "stuck", "max_queued_bytes": 4194304, "hosts": [{"address": "127.0.0.1:%20$d"}]}]}
                    """.formatted(name, adminPort, limits == null ? "" : "\"limits\": " + limits + ",",
                    overload == null ? "" : "\"overload\": " + overload + ",", boltPort, dubboPort, httpPort, HELLO,
                    HOLD_BOLT, DEMO, HOLD_DUBBO, httpOptions == null ? "" : ", " + httpOptions, sofaPort, demo.port(),
                    origin.port(), holdBolt.port(), holdDubbo.port(), holdHttp.port(), STUCK_BOLT, stuck.port());
            try {
                started = RemoraProcess.start(name, config, adminPort, env);
            } catch (AssertionError e) {
                if (attempt >= 3 || !String.valueOf(e.getMessage()).contains("Address already in use")) {
                    throw e;
                }
            }
        }
        remora = started;
        healthy = new HealthyClients(sofa, boltPort, dubboPort, httpPort);
    }

    static Rig start(String name, String limits, String overload, String httpOptions, Map<String, String> env,
                     boolean holdPaused) throws Exception {
        return new Rig(name, limits, overload, httpOptions, env, holdPaused);
    }

    Attack attack(String attackName) {
        return new Attack(this, attackName);
    }

    /** Sets a log file's level through the admin API (as an operator would while investigating). */
    void logLevel(String file, String level) throws IOException {
        String body = "{\"log_level\":\"" + level + "\",\"log_path\":\"" + file + "\"}";
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", adminPort), 3000);
            s.setSoTimeout(5000);
            OutputStream o = s.getOutputStream();
            o.write(("POST /api/v1/update_loglevel HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                    + "Content-Type: application/json\r\nContent-Length: " + body.length() + "\r\n\r\n" + body)
                    .getBytes(StandardCharsets.US_ASCII));
            o.flush();
            InputStream in = s.getInputStream();
            String r = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            if (!r.startsWith("HTTP/1.1 200")) {
                throw new IOException("update_loglevel: " + r);
            }
        }
    }

    @Override
    public void close() throws Exception {
        try {
            healthy.close();
        } finally {
            remora.close();
            sofa.close();
            demo.close();
            origin.close();
            holdBolt.close();
            holdDubbo.close();
            holdHttp.close();
            stuck.close();
        }
    }

    /** The SOFARPC service behind the sidecar: answers at once, keeps nothing. */
    static final class Hello implements HelloService {
        @Override
        public String sayHello(String name) {
            return "hello " + name;
        }

        @Override
        public byte[] echo(byte[] data) {
            return data;
        }

        @Override
        public String slow(long millis) {
            return "slow";
        }

        @Override
        public void notify(String message) {
        }
    }
}
