package io.remora.xds;

import static io.remora.xds.controlplane.GoControlPlane.CLUSTER;
import static io.remora.xds.controlplane.GoControlPlane.ENDPOINT;
import static io.remora.xds.controlplane.GoControlPlane.LISTENER;
import static io.remora.xds.controlplane.GoControlPlane.ROUTE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.remora.xds.controlplane.GoControlPlane;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Delta ADS against go-control-plane's linear caches (per-resource versions, removals). */
class GoInteropDeltaTest extends GoInteropScenarios {

    @Override
    String api() {
        return "delta";
    }

    @Override
    GoControlPlane.Cache cache() {
        return GoControlPlane.Cache.LINEAR;
    }

    @Override
    void assertSubscriptions() {
        assertEquals("[\"*\"]", firstRequest(CLUSTER).path("subscribe").toString(), "explicit wildcard");
        assertEquals("[\"*\"]", firstRequest(LISTENER).path("subscribe").toString(), "explicit wildcard");
        assertEquals("[\"a\"]", firstRequest(ENDPOINT).path("subscribe").toString());
        assertEquals("[\"rpc_routes\"]", firstRequest(ROUTE).path("subscribe").toString());
        assertTrue(firstRequest(CLUSTER).path("initial_versions").isMissingNode(), "a first stream holds nothing");
        long withNode = cp.status().path("requests").findValues("has_node").stream().filter(JsonNode::asBoolean)
                .count();
        assertEquals(1, withNode, "delta sends the node on the stream's first request only");
    }

    @Test
    void removedLoadAssignmentLeavesItsClusterWithNoEndpoints() throws Exception {
        pushBase();
        sidecar = startSidecar();
        awaitReadyAndServing();
        cp.update(nextVersion(), List.of(), List.<String[]>of(gone(ENDPOINT, "a")));
        await("no endpoints", () -> sidecar.sidecar().config().current().cluster("a").hosts().length == 0);
        assertTrue(cp.acked(ENDPOINT, "a"));
        assertTrue(serving("egress"), "the listener stays");
        assertThrows(Exception.class, () -> call("egress", "nobody"));
        assertEquals("[]", xds().path("warming").toString(), "removed is not warming: Envoy's semantics");

        cp.set(nextVersion(), cla("a", echoB));
        await("endpoints back", () -> sidecar.sidecar().config().current().cluster("a").hosts().length == 1);
        assertEquals("B:back", call("egress", "back"));
    }

    @Override
    void assertResync(List<JsonNode> before) {
        // A new stream tells the restarted control plane what the sidecar holds, at the versions it was sent.
        for (Map.Entry<String, String> e : Map.of(CLUSTER, "a", ENDPOINT, "a", LISTENER, "egress",
                ROUTE, "rpc_routes").entrySet()) {
            JsonNode first = firstRequest(e.getKey());
            JsonNode initial = first.path("initial_versions");
            assertEquals(1, initial.size(), e.getKey() + ": " + first);
            String held = initial.path(e.getValue()).asText();
            String sent = null;
            for (JsonNode r : before) {
                if (r.path("type").asText().equals(e.getKey()) && r.path("versions").has(e.getValue())) {
                    sent = r.path("versions").path(e.getValue()).asText();
                }
            }
            assertEquals(sent, held, e.getKey() + " " + e.getValue() + ": the version last received");
            assertNoError(first);
        }
        // So the restarted control plane resends only what changed: the endpoints, not the listener.
        for (JsonNode r : cp.responses(LISTENER)) {
            assertFalse(r.path("resources").toString().contains("egress"), "unchanged listener resent: " + r);
            assertEquals("[]", r.path("removed").isMissingNode() ? "[]" : r.path("removed").toString());
        }
        assertTrue(cp.acked(ENDPOINT, "a"));
    }
}
