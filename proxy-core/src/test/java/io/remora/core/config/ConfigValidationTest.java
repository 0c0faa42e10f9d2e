package io.remora.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.remora.core.cluster.HostRegistry;
import io.remora.core.protocol.ProtocolRegistry;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** Bad config is rejected whole, with the field path and the bad value in the message. */
class ConfigValidationTest {

    private static final String VALID = """
            {"listeners":[{"name":"out","address":"127.0.0.1:0","protocol":"testrpc",
               "routes":[{"match":{"service":"a"},"cluster":"c"}]}],
             "clusters":[{"name":"c","hosts":[{"address":"127.0.0.1:9"}]}]}""";

    private static ConfigSnapshot compile(String json) throws ConfigException {
        return new ConfigCompiler(ProtocolRegistry.load(), Map.of(), new HostRegistry(), null)
                .compile(ConfigLoader.parse(json), 1, "test");
    }

    @Test
    void acceptsAValidConfigAndAppliesDefaults() throws Exception {
        ConfigSnapshot s = compile(VALID);
        assertEquals(34901, s.adminAddress().getPort());
        assertEquals("127.0.0.1", s.adminAddress().getAddress().getHostAddress());
        assertEquals(1, s.listeners().size());
        assertEquals(ConfigCompiler.DEFAULT_IDLE_TIMEOUT_MS, s.listeners().get("out").idleTimeoutMillis());
        assertEquals("round_robin", s.cluster("c").lbPolicy());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '~', value = {
        "bad port ~ \"127.0.0.1:0\" ~ \"127.0.0.1:99999\" ~ listeners[0].address ~ 99999",
        "no port ~ \"127.0.0.1:0\" ~ \"localhost\" ~ listeners[0].address ~ localhost",
        "unknown protocol ~ \"testrpc\" ~ \"smtp\" ~ listeners[0].protocol ~ smtp",
        "unknown cluster ~ \"cluster\":\"c\" ~ \"cluster\":\"nope\" ~ listeners[0].routes ~ nope",
        "unknown lb ~ \"name\":\"c\", ~ \"name\":\"c\",\"lb_policy\":\"fastest\", ~ clusters[0].lb_policy ~ fastest",
        "negative weight ~ \"127.0.0.1:9\"} ~ \"127.0.0.1:9\",\"weight\":-3} ~ clusters[0].hosts[0].weight ~ -3",
        "unknown field ~ \"name\":\"out\" ~ \"name\":\"out\",\"adress\":\"x\" ~ listeners[0].adress ~ unknown field",
        "wrong type ~ \"name\":\"c\", ~ \"name\":\"c\",\"connect_timeout_ms\":\"soon\", ~ clusters[0].connect_timeout_ms ~ soon",
        "bad direction ~ \"protocol\":\"testrpc\" ~ \"protocol\":\"testrpc\",\"direction\":\"sideways\" ~ listeners[0].direction ~ sideways",
        "bad regex ~ {\"service\":\"a\"} ~ {\"service\":\"a\",\"headers\":[{\"name\":\"h\",\"regex\":\"([\"}]} ~ listeners[0].routes[0].match.headers[0].regex ~ ([",
        "unknown filter ~ \"protocol\":\"testrpc\" ~ \"protocol\":\"testrpc\",\"filters\":[{\"type\":\"magic\"}] ~ listeners[0].filters[0].type ~ magic",
    })
    void rejectsWithFieldPathAndValue(String name, String from, String to, String path, String value) {
        String json = VALID.replace(from.strip(), to.strip());
        assertTrue(!json.equals(VALID), "test case must change the config: " + name);
        ConfigException e = assertThrows(ConfigException.class, () -> compile(json));
        assertEquals(path.strip(), e.path(), e.getMessage());
        assertTrue(e.getMessage().contains(value.strip()), e.getMessage());
    }

    @Test
    void rejectsDuplicateListenerNames() {
        String json = """
                {"listeners":[{"name":"x","address":"127.0.0.1:0","protocol":"testrpc","routes":[]},
                              {"name":"x","address":"127.0.0.1:0","protocol":"testrpc","routes":[]}]}""";
        ConfigException e = assertThrows(ConfigException.class, () -> compile(json));
        assertEquals("listeners[1].name", e.path());
    }

    @Test
    void rejectsInvalidJsonWithItsLocation() {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse("{\"listeners\": [}"));
        assertTrue(e.getMessage().contains("line 1"), e.getMessage());
    }
}
