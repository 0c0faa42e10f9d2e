package io.remora.core.router;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.remora.core.config.ConfigException;
import io.remora.core.config.SidecarConfig;
import io.remora.core.protocol.RequestHeaders;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.function.BiConsumer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** Route {@code destination} conditions against the connection's original destination. */
class DestinationRouteTest {

    private static final RequestHeaders REQUEST = new RequestHeaders() {
        public String protocol() {
            return "http";
        }

        public String service() {
            return "example.com";
        }

        public String method() {
            return "GET";
        }

        public String header(String name) {
            return null;
        }

        public void forEachHeader(BiConsumer<String, String> visitor) {
        }
    };

    private static SidecarConfig.Route route(String name, String service, String destination) {
        return new SidecarConfig.Route(name, new SidecarConfig.RouteMatch(service, null, null, null, null, null,
                destination), name, null, null);
    }

    private static RouteTable table() throws ConfigException {
        return RouteTable.compile("t", List.of(
                route("exact", "example.com", "10.250.0.2:8080"),
                route("v6", null, "[fd00::/8]:443"),
                route("cidr_port", null, "10.250.0.0/30:9090"),
                route("cidr", null, "192.168.0.0/16"),
                route("port", null, ":5432"),
                route("host", null, "10.9.9.9")), "routes");
    }

    private static String matched(String ip, int port) throws ConfigException {
        Route r = table().match(REQUEST, new InetSocketAddress(ip, port));
        return r == null ? "none" : r.name();
    }

    @ParameterizedTest(name = "{0}:{1} -> {2}")
    @CsvSource({
        "10.250.0.2, 8080, exact",
        "10.250.0.2, 8081, none",
        "10.250.0.1, 9090, cidr_port",
        "10.250.0.5, 9090, none",
        "192.168.7.9, 1, cidr",
        "192.169.0.1, 1, none",
        "172.16.0.1, 5432, port",
        "10.9.9.9, 1234, host",
        "10.9.9.8, 1234, none",
        "fd12::1, 443, v6",
        "fe80::1, 443, none",
    })
    void routesByOriginalDestination(String ip, int port, String expected) throws ConfigException {
        assertEquals(expected, matched(ip, port));
    }

    @Test
    void destinationRoutesNeverMatchWithoutADestination() throws ConfigException {
        assertNull(table().match(REQUEST));
        assertNull(table().match(REQUEST, null));
    }

    @Test
    void ipv4PrefixNeverMatchesIpv6Address() throws ConfigException {
        RouteTable t = RouteTable.compile("t", List.of(route("all4", null, "0.0.0.0/0")), "routes");
        assertEquals("all4", t.match(REQUEST, new InetSocketAddress("8.8.8.8", 53)).name());
        assertNull(t.match(REQUEST, new InetSocketAddress("::1", 53)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"example.com:80", "10.0.0.0/40", "10.0.0.1:0", "10.0.0.1:99999", ":", "fd00::1:80",
        "[fd00::1", " "})
    void rejectsMalformedDestinations(String bad) {
        ConfigException e = assertThrows(ConfigException.class,
                () -> RouteTable.compile("t", List.of(route("r", null, bad)), "listeners[0].routes"));
        assertEquals("listeners[0].routes[0].match.destination", e.path(), e.getMessage());
        assertTrue(e.getMessage().contains(bad.strip()) || bad.isBlank(), e.getMessage());
    }
}
