package io.remora.filters.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.alipay.sofa.rpc.config.ConsumerConfig;
import com.alipay.sofa.rpc.core.exception.SofaRpcException;
import com.alipay.sofa.rpc.core.request.SofaRequest;
import com.alipay.sofa.rpc.core.response.SofaResponse;
import com.alipay.sofa.rpc.filter.Filter;
import com.alipay.sofa.rpc.filter.FilterInvoker;
import com.sun.net.httpserver.HttpServer;
import io.remora.testing.TestSidecar;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Header-matched gray traffic: a label routing rule whose condition is on a request header sends every such request to
 * the gray-labelled provider, while the rest follows the weighted rule. Over Bolt (a real SOFARPC consumer whose filter
 * adds a request prop, which SOFARPC writes as a Bolt header) and over HTTP (a request header through the http
 * listener).
 */
class HeaderGrayRoutingTest {

    static final String SVC = Greeter.class.getName() + ":1.0";
    private static Provider gray;
    private static Provider base1;
    private static Provider base2;
    private TestSidecar sidecar;
    private final List<ConsumerConfig<Greeter>> consumers = new ArrayList<>();
    private final List<HttpServer> servers = new ArrayList<>();

    @BeforeAll
    static void providers() {
        gray = new Provider("gray");
        base1 = new Provider("base1");
        base2 = new Provider("base2");
    }

    @AfterAll
    static void stopProviders() {
        gray.close();
        base1.close();
        base2.close();
    }

    @AfterEach
    void stop() {
        consumers.forEach(c -> {
            try {
                c.unRefer();
            } catch (RuntimeException ignored) {
                // teardown
            }
        });
        if (sidecar != null) {
            sidecar.close();
        }
        servers.forEach(s -> s.stop(0));
    }

    /** Two rules for {@code service} of cluster {@code app}: header x-env=gray → gray only (priority 10); else 10/90. */
    private static String rules(String app, String service) {
        return """
                {"label_routing":{"rules":[
                  {"name":"gray-10","app":"%1$s","service":"%2$s","priority":1,
                   "groups":[{"name":"gray","weight":10,"labels":{"LABEL":"gray"}},
                             {"name":"base","weight":90,"labels":{"LABEL":"base"}}]},
                  {"name":"gray-header","app":"%1$s","service":"%2$s","priority":10,
                   "conditions":[{"source":"header","field":"x-env","operator":"equals","value":"gray"}],
                   "groups":[{"name":"gray","weight":100,"labels":{"LABEL":"gray"}}]}]}}""".formatted(app, service);
    }

    private static String host(String address, String label) {
        return "{\"address\":\"" + address + "\",\"labels\":{\"LABEL\":\"" + label + "\"}}";
    }

    /** Adds request props to every call; SOFARPC's bolt serializer flattens request props into the Bolt header map. */
    private static final class HeaderFilter extends Filter {
        private final Map<String, String> props;

        HeaderFilter(Map<String, String> props) {
            this.props = props;
        }

        @Override
        public SofaResponse invoke(FilterInvoker invoker, SofaRequest request) throws SofaRpcException {
            props.forEach(request::addRequestProp);
            return invoker.invoke(request);
        }
    }

    private Greeter bolt(Map<String, String> headers) {
        ConsumerConfig<Greeter> c = Provider.consumer("caller", sidecar.port("egress"));
        c.setFilterRef(List.of(new HeaderFilter(headers)));
        consumers.add(c);
        return c.refer();
    }

    private static Map<String, Integer> count(Greeter s, int n) {
        Map<String, Integer> seen = new HashMap<>();
        for (int i = 0; i < n; i++) {
            seen.merge(s.sayHello("x"), 1, Integer::sum);
        }
        return seen;
    }

    @Test
    void boltRequestsWithTheGrayHeaderAlwaysLandOnTheGrayProvider() throws Exception {
        sidecar = TestSidecar.start("""
                {"admin":{"port":0},
                 "listeners":[{"name":"egress","address":"127.0.0.1:0","protocol":"bolt",
                   "routes":[{"match":{"service":"*"},"cluster":"hello","timeout_ms":5000}]}],
                 "clusters":[{"name":"hello","protocol":"bolt","hosts":[%s,%s,%s]}],
                 "extensions":%s}
                """.formatted(host(gray.address(), "gray"), host(base1.address(), "base"),
                host(base2.address(), "base"), rules("hello", SVC)));
        assertEquals(Map.of("gray", 400), count(bolt(Map.of("x-env", "gray")), 400));
        assertWeighted(count(bolt(Map.of("x-env", "blue")), 600));
        assertWeighted(count(bolt(Map.of()), 600));
    }

    /** 600 calls split 10/90 between gray and base (mean 60 gray, sd 7.3: 25..100 is beyond 4.7 sd). */
    private static void assertWeighted(Map<String, Integer> seen) {
        int g = seen.getOrDefault("gray", 0);
        assertTrue(g >= 25 && g <= 100, "gray share of 600 should be about 60: " + seen);
        assertEquals(600, g + seen.getOrDefault("base1", 0) + seen.getOrDefault("base2", 0), seen.toString());
        assertTrue(seen.getOrDefault("base1", 0) > 150 && seen.getOrDefault("base2", 0) > 150, seen.toString());
    }

    private String httpServer(String id) throws Exception {
        // The JDK server writes head and body separately; without TCP_NODELAY each answer waits for a delayed ACK.
        System.setProperty("sun.net.httpserver.nodelay", "true");
        HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        s.createContext("/", ex -> {
            byte[] body = id.getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        s.start();
        servers.add(s);
        return "127.0.0.1:" + s.getAddress().getPort();
    }

    @Test
    void httpRequestsWithTheGrayHeaderAlwaysLandOnTheGrayServer() throws Exception {
        sidecar = TestSidecar.start("""
                {"admin":{"port":0},
                 "listeners":[{"name":"egress_http","address":"127.0.0.1:0","protocol":"http",
                   "routes":[{"match":{"service":"*"},"cluster":"web","timeout_ms":5000}]}],
                 "clusters":[{"name":"web","hosts":[%s,%s,%s]}],
                 "extensions":%s}
                """.formatted(host(httpServer("gray"), "gray"), host(httpServer("base1"), "base"),
                host(httpServer("base2"), "base"), rules("web", "127.0.0.1")));
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        URI uri = URI.create("http://127.0.0.1:" + sidecar.port("egress_http") + "/hello");
        Map<String, Integer> grayed = new HashMap<>();
        Map<String, Integer> other = new HashMap<>();
        for (int i = 0; i < 400; i++) {
            grayed.merge(client.send(HttpRequest.newBuilder(uri).header("x-env", "gray")
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).body(), 1,
                    Integer::sum);
        }
        for (int i = 0; i < 600; i++) {
            other.merge(client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString()).body(), 1, Integer::sum);
        }
        assertEquals(Map.of("gray", 400), grayed);
        assertWeighted(other);
    }
}
