package io.remora.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.remora.core.chain.FilterChains;
import io.remora.core.cluster.HostRegistry;
import io.remora.core.protocol.ProtocolRegistry;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Listeners with filter chains: compiled, validated with the field path, and chains picked like Envoy does. */
class FilterChainConfigTest {

    private static final String CHAINED = """
            {"listeners":[{"name":"virtual","address":"0.0.0.0:0","use_original_dst":true,
               "filter_chains":[
                 {"name":"port80","match":{"destination_port":80},"protocol":"testrpc","routes":[{"cluster":"c"}]},
                 {"name":"net10","match":{"prefix_ranges":["10.0.0.0/8"]},"protocol":"testrpc","routes":[{"cluster":"c"}]},
                 {"name":"host5","match":{"prefix_ranges":["10.0.0.5/32"]},"protocol":"testrpc","routes":[{"cluster":"c"}]},
                 {"name":"tls-a","match":{"destination_port":443,"server_names":["a.example"],"transport_protocol":"tls"},
                  "protocol":"testrpc","routes":[{"cluster":"c"}]},
                 {"name":"tls-wild","match":{"destination_port":443,"server_names":["*.example"],"transport_protocol":"tls"},
                  "protocol":"testrpc","routes":[{"cluster":"c"}]},
                 {"name":"h2","match":{"destination_port":443,"application_protocols":["h2c"]},"protocol":"testrpc","routes":[{"cluster":"c"}]},
                 {"name":"plain443","match":{"destination_port":443},"protocol":"testrpc","routes":[{"cluster":"c"}]}],
               "default_filter_chain":{"protocol":"testrpc","routes":[{"cluster":"c"}]}},
              {"name":"svc","address":"10.1.2.3:8080","bind_to_port":false,"protocol":"testrpc","routes":[{"cluster":"c"}]}],
             "clusters":[{"name":"c","hosts":[{"address":"127.0.0.1:9"}]}]}""";

    private static ConfigSnapshot compile(String json) throws ConfigException {
        return new ConfigCompiler(ProtocolRegistry.load(), Map.of(), new HostRegistry(), null)
                .compile(ConfigLoader.parse(json), 1, "test");
    }

    private static String pick(FilterChains fc, String ip, int port, String sni, String transport, String... alpn) {
        FilterChains.Chain c = fc.select(new InetSocketAddress(ip, port), sni, transport, List.of(alpn));
        return c == null ? null : c.name();
    }

    @Test
    void picksTheMostSpecificChainCriterionByCriterion() throws Exception {
        ConfigSnapshot s = compile(CHAINED);
        ListenerSpec v = s.listeners().get("virtual");
        assertEquals(ListenerSpec.CHAINED, v.protocol());
        assertTrue(v.useOriginalDst());
        FilterChains fc = v.chains();
        assertTrue(fc.needsInspection());
        assertEquals("port80", pick(fc, "10.0.0.5", 80, null, null), "destination port is looked at first");
        assertEquals("host5", pick(fc, "10.0.0.5", 81, null, null), "then the longest prefix");
        assertEquals("net10", pick(fc, "10.9.9.9", 81, null, null));
        assertEquals("default", pick(fc, "192.168.1.1", 81, null, null), "nothing matches: the default chain");
        assertEquals("tls-a", pick(fc, "192.168.1.1", 443, "a.example", "tls"), "an exact server name");
        assertEquals("tls-wild", pick(fc, "192.168.1.1", 443, "b.example", "tls"), "then a wildcard");
        assertEquals("plain443", pick(fc, "192.168.1.1", 443, null, "tls"), "no SNI: chains without server_names");
        assertEquals("h2", pick(fc, "192.168.1.1", 443, null, "raw_buffer", "h2c"));
        assertEquals("plain443", pick(fc, "192.168.1.1", 443, null, "raw_buffer", "http/1.1"));
        assertEquals("plain443", pick(fc, "192.168.1.1", 443, "other.org", "tls"),
                "an unmatched SNI falls to the chains without server_names");
        assertEquals("default", pick(fc, "192.168.1.1", 443, "a.example", "raw_buffer"),
                "no backtracking: the SNI picked tls-a, whose transport does not match, so the default chain serves");
        assertEquals("c", fc.named("host5").spec().routes().routes().get(0).clusters()[0]);
        ListenerSpec svc = s.listeners().get("svc");
        assertFalse(svc.bindToPort());
        assertNull(svc.chains());
    }

    @Test
    void unboundListenersMayShareAPortWithABoundOneButNotAnAddressWithEachOther() throws Exception {
        String twice = CHAINED.replace("{\"name\":\"svc\"", """
                {"name":"svc0","address":"0.0.0.0:0","protocol":"testrpc","routes":[{"cluster":"c"}]},
                {"name":"svc2","address":"10.1.2.3:8080","bind_to_port":false,"protocol":"testrpc","routes":[{"cluster":"c"}]},
                {"name":"svc\"""");
        ConfigException e = assertThrows(ConfigException.class, () -> compile(twice));
        assertEquals("listeners[3].address", e.path(), e.getMessage());
        assertTrue(e.getMessage().contains("\"svc2\""), e.getMessage());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '~', value = {
        "single-chain field beside chains ~ \"use_original_dst\":true ~ \"use_original_dst\":true,\"protocol\":\"testrpc\" ~ listeners[0].protocol ~ not allowed with filter_chains",
        "bad port ~ \"destination_port\":80 ~ \"destination_port\":0 ~ listeners[0].filter_chains[0].match.destination_port ~ 0",
        "bad cidr ~ 10.0.0.0/8 ~ 10.0.0.0/33 ~ listeners[0].filter_chains[1].match.prefix_ranges[0] ~ 10.0.0.0/33",
        "cidr with port ~ 10.0.0.0/8 ~ 10.0.0.0/8:80 ~ listeners[0].filter_chains[1].match.prefix_ranges[0] ~ without a port",
        "bad transport ~ \"transport_protocol\":\"tls\"}, ~ \"transport_protocol\":\"quic\"}, ~ listeners[0].filter_chains[3].match.transport_protocol ~ quic",
        "bad server name ~ [\"*.example\"] ~ [\"a.*.example\"] ~ listeners[0].filter_chains[4].match.server_names[0] ~ a.*.example",
        "duplicate match ~ \"prefix_ranges\":[\"10.0.0.5/32\"] ~ \"prefix_ranges\":[\"10.0.0.0/8\"] ~ listeners[0].filter_chains[2].match ~ filter_chains[1]",
        "duplicate chain name ~ \"name\":\"net10\" ~ \"name\":\"port80\" ~ listeners[0].filter_chains[1].name ~ port80",
        "chain without protocol ~ \"name\":\"h2\",\"match\":{\"destination_port\":443,\"application_protocols\":[\"h2c\"]},\"protocol\":\"testrpc\", ~ \"name\":\"h2\",\"match\":{\"destination_port\":443,\"application_protocols\":[\"h2c\"]}, ~ listeners[0].filter_chains[5].protocol ~ required",
        "default chain with a match ~ \"default_filter_chain\":{ ~ \"default_filter_chain\":{\"match\":{},  ~ listeners[0].default_filter_chain.match ~ no match",
        "chain unknown cluster ~ \"name\":\"port80\",\"match\":{\"destination_port\":80},\"protocol\":\"testrpc\",\"routes\":[{\"cluster\":\"c\"}] ~ \"name\":\"port80\",\"match\":{\"destination_port\":80},\"protocol\":\"testrpc\",\"routes\":[{\"cluster\":\"nope\"}] ~ listeners[0].filter_chains[0].routes ~ nope",
        "server tls without certificate ~ \"name\":\"net10\", ~ \"name\":\"net10\",\"tls\":{\"ca_file\":\"/x\"}, ~ listeners[0].filter_chains[1].tls ~ needs its certificate",
        "tls file missing ~ \"name\":\"net10\", ~ \"name\":\"net10\",\"tls\":{\"cert_file\":\"/nonexistent.pem\",\"key_file\":\"/nonexistent.key\"}, ~ listeners[0].filter_chains[1].tls.cert_file ~ /nonexistent.pem",
        "require client cert without ca ~ \"name\":\"net10\", ~ \"name\":\"net10\",\"tls\":{\"cert_secret\":\"default\",\"require_client_certificate\":true}, ~ listeners[0].filter_chains[1].tls.require_client_certificate ~ ca_file",
    })
    void rejectsBadChainsWithTheFieldPath(String name, String from, String to, String path, String value) {
        String json = CHAINED.replace(from.strip(), to.strip());
        assertTrue(!json.equals(CHAINED), "test case must change the config: " + name);
        ConfigException e = assertThrows(ConfigException.class, () -> compile(json));
        assertEquals(path.strip(), e.path(), e.getMessage());
        assertTrue(e.getMessage().contains(value.strip()), e.getMessage());
    }

    @Test
    void clusterTlsIsValidatedWithTheFieldPath() {
        String base = """
                {"clusters":[{"name":"c","hosts":[{"address":"127.0.0.1:9"}],"tls":%s}]}""";
        ConfigException e = assertThrows(ConfigException.class, () -> compile(base.formatted(
                "{\"cert_file\":\"/a.pem\"}")));
        assertEquals("clusters[0].tls.key_file", e.path(), e.getMessage());
        e = assertThrows(ConfigException.class, () -> compile(base.formatted(
                "{\"require_client_certificate\":true}")));
        assertEquals("clusters[0].tls.require_client_certificate", e.path(), e.getMessage());
        e = assertThrows(ConfigException.class, () -> compile(base.formatted("{\"ca_file\":\"/missing-ca.pem\"}")));
        assertEquals("clusters[0].tls.ca_file", e.path(), e.getMessage());
    }
}
