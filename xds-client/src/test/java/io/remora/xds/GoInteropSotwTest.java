package io.remora.xds;

import static io.remora.xds.controlplane.GoControlPlane.CLUSTER;
import static io.remora.xds.controlplane.GoControlPlane.ENDPOINT;
import static io.remora.xds.controlplane.GoControlPlane.LISTENER;
import static io.remora.xds.controlplane.GoControlPlane.ROUTE;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import io.remora.xds.controlplane.GoControlPlane;
import java.util.List;

/** State-of-the-world ADS against go-control-plane's snapshot cache. */
class GoInteropSotwTest extends GoInteropScenarios {

    @Override
    String api() {
        return "sotw";
    }

    @Override
    GoControlPlane.Cache cache() {
        return GoControlPlane.Cache.SNAPSHOT;
    }

    @Override
    void assertSubscriptions() {
        assertEquals(0, firstRequest(CLUSTER).path("names").size(), "CDS is wildcard (no names)");
        assertEquals(0, firstRequest(LISTENER).path("names").size(), "LDS is wildcard (no names)");
        assertEquals("[\"a\"]", firstRequest(ENDPOINT).path("names").toString());
        assertEquals("[\"rpc_routes\"]", firstRequest(ROUTE).path("names").toString());
    }

    @Override
    void assertResync(List<JsonNode> responsesBeforeRestart) {
        // Like Envoy, a new stream announces the last ACKed version of each type.
        for (String t : List.of(CLUSTER, ENDPOINT, LISTENER, ROUTE)) {
            JsonNode first = firstRequest(t);
            assertEquals("v1", first.path("version").asText(), t + ": " + first);
            assertEquals("", first.path("nonce").asText());
            assertNoError(first);
        }
    }
}
