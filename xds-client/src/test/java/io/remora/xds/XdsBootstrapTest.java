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

    @Test
    void nodeCarriesIstioMetadataFromThePodEnvironmentLikeIstioAgent() throws Exception {
        XdsBootstrap b = XdsBootstrap.from(ConfigLoader.parse("""
                {"node":{"app":"shop","labels":{"version":"v1"}},
                 "extensions":{"xds":{"address":"istiod:15010","api":"auto",
                   "metadata":{"MESH_ID":"cluster.local","CLUSTER_ID":"from-config","POD_PORTS":"[]"},
                   "locality":{"region":"eu","zone":"eu-1a"}}}}"""),
                Map.of("POD_NAME", "shop-7d9f", "POD_NAMESPACE", "prod", "INSTANCE_IP", "10.1.2.3",
                        "ISTIO_META_CLUSTER_ID", "Kubernetes", "ISTIO_META_INTERCEPTION_MODE", "NONE",
                        "ISTIO_META_APP_CONTAINERS", "shop,sidecar", "ISTIO_METAJSON_LABELS", "{\"app\":\"shop\"}"));
        assertEquals("sidecar~10.1.2.3~shop-7d9f.prod~prod.svc.cluster.local", b.nodeId());
        assertEquals(XdsBootstrap.Api.AUTO, b.api());
        assertEquals("shop-7d9f", b.metadata("NAME"));
        assertEquals("prod", b.metadata("NAMESPACE"));
        assertEquals("10.1.2.3", b.metadata("INSTANCE_IPS"));
        assertEquals("Kubernetes", b.metadata("CLUSTER_ID"), "the pod's environment wins over the file");
        assertEquals("cluster.local", b.metadata("MESH_ID"));
        assertEquals("NONE", b.metadata("INTERCEPTION_MODE"));
        assertEquals("shop,sidecar", b.metadata("APP_CONTAINERS"));
        assertEquals("shop", b.node().getMetadata().getFieldsOrThrow("LABELS").getStructValue()
                .getFieldsOrThrow("app").getStringValue(), "ISTIO_METAJSON_ values are JSON");
        assertEquals("eu-1a", b.node().getLocality().getZone());
        assertEquals("remora", b.node().getUserAgentName());
        assertTrue(b.node().getClientFeaturesList().contains("xds.config.resource-in-sotw"));
    }

    @Test
    void rejectsUnknownApi() {
        ConfigException e = assertThrows(ConfigException.class, () -> XdsBootstrap.from(ConfigLoader.parse(
                "{\"extensions\":{\"xds\":{\"address\":\"istiod:15010\",\"api\":\"incremental\"}}}"), Map.of()));
        assertEquals("extensions.xds.api", e.path());
        assertTrue(e.getMessage().contains("sotw, delta, auto"), e.getMessage());
    }
}
