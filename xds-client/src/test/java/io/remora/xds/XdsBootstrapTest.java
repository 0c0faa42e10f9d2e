package io.remora.xds;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.remora.core.config.ConfigException;
import io.remora.core.config.ConfigLoader;
import java.util.Map;
import org.junit.jupiter.api.Test;

class XdsBootstrapTest {

    @Test
    void absentWithoutSectionOrEnvironment() throws Exception {
        assertNull(XdsBootstrap.from(ConfigLoader.parse("{\"admin\":{\"port\":0}}"), Map.of()));
    }

    @Test
    void environmentOverridesAddressAndNodeId() throws Exception {
        XdsBootstrap b = XdsBootstrap.from(ConfigLoader.parse("""
                {"node":{"id":"n1","app":"shop"},"extensions":{"xds":{"address":"127.0.0.1:1"}}}"""),
                Map.of("REMORA_XDS_ADDRESS", "istiod.istio-system:15010",
                        "REMORA_NODE_ID", "sidecar~10.1.2.3~shop-1.prod~prod.svc.cluster.local"));
        assertEquals("istiod.istio-system:15010", b.address());
        assertEquals("sidecar~10.1.2.3~shop-1.prod~prod.svc.cluster.local", b.nodeId());
        assertEquals("prod", b.metadata("NAMESPACE"));
        assertEquals("shop", b.metadata("APP"));
        assertEquals(15_000, b.initialFetchTimeoutMs());
    }

    @Test
    void environmentAloneEnablesXds() throws Exception {
        XdsBootstrap b = XdsBootstrap.from(ConfigLoader.parse("{}"), Map.of("REMORA_XDS_ADDRESS",
                "unix:///var/run/xds.sock"));
        assertEquals("unix:///var/run/xds.sock", b.address());
        assertTrue(b.nodeId().startsWith("sidecar~"));
    }

    @Test
    void rejectsAddressWithoutPort() {
        ConfigException e = assertThrows(ConfigException.class, () -> XdsBootstrap.from(ConfigLoader.parse(
                "{\"extensions\":{\"xds\":{\"address\":\"istiod\"}}}"), Map.of()));
        assertEquals("extensions.xds.address", e.path());
    }
}
