package io.remora.xds;

import static io.remora.testkit.xds.EnvoyResources.edsCluster;
import static io.remora.testkit.xds.EnvoyResources.endpoint;
import static io.remora.testkit.xds.EnvoyResources.endpoints;
import static io.remora.testkit.xds.EnvoyResources.httpFilter;
import static io.remora.testkit.xds.EnvoyResources.httpListener;
import static io.remora.testkit.xds.EnvoyResources.prefixRoute;
import static io.remora.testkit.xds.EnvoyResources.routeConfig;
import static io.remora.testkit.xds.EnvoyResources.virtualHost;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.envoyproxy.envoy.config.core.v3.HealthStatus;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.remora.testing.TestSidecar;
import io.remora.testkit.xds.ControlPlane;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Envoy HTTP connection manager listeners over xDS, with real HTTP/1.1 traffic from java.net.http.HttpClient. */
class XdsHttpTest {

    static {
        // Host header for virtual host routing (also set by surefire; this is for IDE runs of this class alone)
        System.setProperty("jdk.httpclient.allowRestrictedHeaders", "host");
    }

    private final HttpServer[] upstreams = new HttpServer[3];
    private ControlPlane cp;
    private TestSidecar sidecar;
    private HttpClient client;

    @BeforeEach
    void setUp() throws Exception {
        for (int i = 0; i < upstreams.length; i++) {
            String tag = String.valueOf((char) ('A' + i));
            HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            s.createContext("/", ex -> {
                byte[] body = (tag + " " + ex.getRequestURI().getPath() + " host=" + ex.getRequestHeaders()
                        .getFirst("Host")).getBytes(StandardCharsets.UTF_8);
                ex.getRequestBody().readAllBytes();
                ex.sendResponseHeaders(200, body.length);
                ex.getResponseBody().write(body);
                ex.close();
            });
            s.start();
            upstreams[i] = s;
        }
        client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
        cp = new ControlPlane(0);
        sidecar = TestSidecar.start("""
                {"admin":{"port":0},"worker_threads":1,
                 "node":{"id":"sidecar~127.0.0.1~web-0.default~default.svc.cluster.local","app":"web"},
                 "extensions":{"xds":{"address":"127.0.0.1:%d"}}}""".formatted(cp.port()));
    }

    @AfterEach
    void tearDown() {
        if (sidecar != null) {
            sidecar.close();
        }
        if (cp != null) {
            cp.close();
        }
        for (HttpServer s : upstreams) {
            if (s != null) {
                s.stop(0);
            }
        }
    }

    private int port(int i) {
        return upstreams[i].getAddress().getPort();
    }

    private Snapshot snapshot(String version, Listener listener, RouteConfiguration routes) {
        return Snapshot.create(List.of(edsCluster("a", "http"), edsCluster("b", "http"), edsCluster("c", "http")),
                List.of(endpoints("a", List.of(endpoint("127.0.0.1", port(0), 1, Map.of(), HealthStatus.HEALTHY))),
                        endpoints("b", List.of(endpoint("127.0.0.1", port(1), 1, Map.of(), HealthStatus.HEALTHY))),
                        endpoints("c", List.of(endpoint("127.0.0.1", port(2), 1, Map.of(), HealthStatus.HEALTHY)))),
                List.of(listener), List.of(routes), List.of(), version);
    }

    /** orders.internal → b; *.shop.example → c; any other host: /api/ → a. */
    private static RouteConfiguration routes(String extraPrefix, String extraCluster) {
        var any = extraPrefix == null ? virtualHost("any", List.of("*"), prefixRoute("/api/", "a"))
                : virtualHost("any", List.of("*"), prefixRoute(extraPrefix, extraCluster), prefixRoute("/api/", "a"));
        return routeConfig("http_routes", any,
                virtualHost("orders", List.of("orders.internal", "orders.internal:8080"), prefixRoute("/", "b")),
                virtualHost("shop", List.of("*.shop.example"), prefixRoute("", "c")));
    }

    private static Listener listener(HttpFilter... filters) {
        return httpListener("egress_http", "127.0.0.1", 0, "http_routes", filters);
    }

    private HttpResponse<String> get(String path, String host) throws Exception {
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + sidecar.port("egress_http")
                + path)).timeout(Duration.ofSeconds(5));
        if (host != null) {
            r.header("Host", host);
        }
        return client.send(r.build(), HttpResponse.BodyHandlers.ofString());
    }

    private long downstreamConnections() throws Exception {
        Matcher m = Pattern.compile("(?m)^remora_downstream_connections_total\\{[^}]*listener=\"egress_http\"[^}]*} "
                + "([0-9.eE+]+)$").matcher(sidecar.admin("GET", "/metrics", null).body());
        return m.find() ? (long) Double.parseDouble(m.group(1)) : -1;
    }

    private static void await(String what, BooleanSupplier cond) throws InterruptedException {
        long deadline = System.nanoTime() + 15_000_000_000L;
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(20);
        }
    }

    private boolean acked(String version) {
        return cp.requests().stream().anyMatch(r -> r.getTypeUrl().equals(XdsResources.ROUTE)
                && r.getVersionInfo().equals(version) && !r.hasErrorDetail());
    }

    @Test
    void proxiesHttpRoutedByHostAndPrefixAndFollowsRouteUpdatesOnTheSameKeepAliveConnection() throws Exception {
        // an optional filter we do not know is ignored (one warning), the listener still serves
        cp.push(snapshot("1", listener(httpFilter("envoy.filters.http.cors",
                "type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors", true)), routes(null, null)));
        await("ready", () -> sidecar.admin("GET", "/ready", null).status() == 200);

        HttpResponse<String> r = get("/api/items?x=1", null);
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.body().startsWith("A /api/items"), r.body());
        r = get("/anything", "orders.internal");
        assertTrue(r.body().startsWith("B /anything host=orders.internal"), r.body());
        assertTrue(get("/x", "Orders.Internal:8080").body().startsWith("B /x"), "host match ignores case and port");
        assertTrue(get("/x", "eu.shop.example").body().startsWith("C /x"), "wildcard domain");
        assertTrue(get("/api/y", "deep.eu.shop.example:81").body().startsWith("C /api/y"), "wildcard domain");
        r = get("/v2/orders", null);
        assertEquals(404, r.statusCode(), r.body());
        assertEquals("no_route", r.headers().firstValue("x-remora-error").orElse(""));
        // a sidecar error response closes the connection (core behaviour); count from the next keep-alive one
        assertTrue(get("/api/again", null).body().startsWith("A /api/again"));
        long connections = downstreamConnections();
        assertEquals(2, connections, "one keep-alive connection per error-free run of requests");

        // RDS update: a new prefix to another cluster takes effect on the same downstream connection
        cp.push(snapshot("2", listener(httpFilter("envoy.filters.http.cors",
                "type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors", true)), routes("/v2/", "c")));
        await("RDS v2 acked", () -> acked("2"));
        await("route applied", () -> sidecar.sidecar().config().current().source().routeConfigs().get(0).routes()
                .stream().anyMatch(x -> "/v2/".equals(x.match().prefix())));
        assertTrue(get("/v2/orders", null).body().startsWith("C /v2/orders"));
        assertTrue(get("/api/z", null).body().startsWith("A /api/z"));
        assertEquals(connections, downstreamConnections(), "the client's keep-alive connection was not dropped");
    }

    @Test
    void requiredUnknownHttpFilterIsNackedAndTheOldConfigKeepsServing() throws Exception {
        cp.push(snapshot("1", listener(), routes(null, null)));
        await("ready", () -> sidecar.admin("GET", "/ready", null).status() == 200);
        assertTrue(get("/api/1", null).body().startsWith("A /api/1"));

        cp.push(snapshot("2", listener(httpFilter("envoy.filters.http.ext_authz",
                "type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz", false)),
                routes("/v2/", "c")));
        await("LDS NACK", () -> cp.requests().stream().anyMatch(r -> r.getTypeUrl().equals(XdsResources.LISTENER)
                && r.hasErrorDetail()));
        DiscoveryRequest nack = cp.requests().stream().filter(r -> r.getTypeUrl().equals(XdsResources.LISTENER)
                && r.hasErrorDetail()).findFirst().orElseThrow();
        String detail = nack.getErrorDetail().getMessage();
        assertEquals("1", nack.getVersionInfo(), detail);
        assertTrue(detail.contains("envoy.filters.http.ext_authz") && detail.contains("is_optional"), detail);
        assertTrue(detail.contains("egress_http"), detail);
        assertTrue(get("/api/2", null).body().startsWith("A /api/2"), "the old listener keeps serving");
    }
}
