package io.remora.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.remora.core.cluster.HostRegistry;
import io.remora.core.protocol.ProtocolRegistry;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Config of transparent listeners and original_dst clusters. */
class InterceptionConfigTest {

    private static final String TRANSPARENT = """
            {"listeners":[{"name":"in","address":"0.0.0.0:0","protocol":"testrpc","direction":"inbound",
               "transparent":true,"routes":[{"match":{"destination":"10.0.0.0/8"},"cluster":"pass"}]}],
             "clusters":[{"name":"pass","type":"original_dst"}]}""";

    private final BooleanSupplier realTransport = ConfigCompiler.transportIsEpoll;
    private final HostRegistry hosts = new HostRegistry();

    @AfterEach
    void restoreTransport() {
        ConfigCompiler.transportIsEpoll = realTransport;
    }

    private ConfigSnapshot compile(String json) throws ConfigException {
        return new ConfigCompiler(ProtocolRegistry.load(), Map.of(), hosts, null)
                .compile(ConfigLoader.parse(json), 1, "test");
    }

    @Test
    void rejectsTransparentListenerOnNio() {
        ConfigCompiler.transportIsEpoll = () -> false;
        ConfigException e = assertThrows(ConfigException.class, () -> compile(TRANSPARENT));
        assertEquals("listeners[0].transparent", e.path(), e.getMessage());
        assertTrue(e.getMessage().contains("needs the epoll transport"), e.getMessage());
    }

    @Test
    void acceptsTransparentListenerOnEpollWithOriginalDstCluster() throws Exception {
        ConfigCompiler.transportIsEpoll = () -> true;
        ConfigSnapshot s = compile(TRANSPARENT);
        assertTrue(s.listeners().get("in").transparent());
        assertTrue(s.cluster("pass").isOriginalDst());
        assertEquals(0, s.cluster("pass").hosts().length);
    }

    @Test
    void listenersAreNotTransparentByDefault() throws Exception {
        ConfigSnapshot s = compile(TRANSPARENT.replace("\"transparent\":true,", ""));
        assertFalse(s.listeners().get("in").transparent());
    }

    @Test
    void originalDstClusterKeepsOneHostPerDestinationAcrossSnapshots() throws Exception {
        ConfigCompiler.transportIsEpoll = () -> true;
        InetSocketAddress dst = new InetSocketAddress("10.1.2.3", 8080);
        var first = compile(TRANSPARENT).cluster("pass").originalDstHost(dst);
        var again = compile(TRANSPARENT).cluster("pass").originalDstHost(new InetSocketAddress("10.1.2.3", 8080));
        assertSame(first, again);
        assertEquals("10.1.2.3:8080", first.address());
        assertEquals(dst, first.socketAddress());
    }

    @Test
    void rejectsOriginalDstClusterWithHosts() {
        ConfigCompiler.transportIsEpoll = () -> true;
        String json = TRANSPARENT.replace("\"type\":\"original_dst\"",
                "\"type\":\"original_dst\",\"hosts\":[{\"address\":\"10.0.0.1:80\"}]");
        ConfigException e = assertThrows(ConfigException.class, () -> compile(json));
        assertEquals("clusters[0].hosts", e.path(), e.getMessage());
    }

    @Test
    void rejectsUnknownClusterType() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> compile(TRANSPARENT.replace("original_dst", "dns")));
        assertEquals("clusters[0].type", e.path(), e.getMessage());
        assertTrue(e.getMessage().contains("dns"), e.getMessage());
    }

    @Test
    void rejectsBadRouteDestinationWithItsPath() {
        ConfigCompiler.transportIsEpoll = () -> true;
        ConfigException e = assertThrows(ConfigException.class,
                () -> compile(TRANSPARENT.replace("10.0.0.0/8", "10.0.0.0/33")));
        assertEquals("listeners[0].routes[0].match.destination", e.path(), e.getMessage());
        assertTrue(e.getMessage().contains("10.0.0.0/33"), e.getMessage());
    }
}
