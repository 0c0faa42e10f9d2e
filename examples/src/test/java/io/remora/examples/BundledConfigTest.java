package io.remora.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.remora.core.cluster.HostRegistry;
import io.remora.core.config.ConfigCompiler;
import io.remora.core.config.ConfigLoader;
import io.remora.core.config.ConfigSnapshot;
import io.remora.core.filter.StreamFilterFactory;
import io.remora.core.protocol.ProtocolRegistry;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

class BundledConfigTest {

    private static ConfigSnapshot compile(String file) throws Exception {
        Map<String, StreamFilterFactory> filters = new LinkedHashMap<>();
        ServiceLoader.load(StreamFilterFactory.class).forEach(f -> filters.put(f.type(), f));
        return new ConfigCompiler(ProtocolRegistry.load(), filters, new HostRegistry(), null)
                .compile(ConfigLoader.load(BundledConfig.file(file)), 1, file);
    }

    @Test
    void bundledDefaultConfigIsValid() throws Exception {
        ConfigSnapshot s = compile("remora.json");

        assertEquals(34901, s.adminAddress().getPort());
        assertEquals("127.0.0.1", s.adminAddress().getAddress().getHostAddress());
        assertEquals(12200, s.listeners().get("egress_bolt").address().getPort());
        assertEquals("127.0.0.1:12199", s.clusters().get("hello_provider").hosts()[0].address());
        assertEquals(20880, s.listeners().get("egress_dubbo").address().getPort());
        assertEquals("127.0.0.1:20881", s.clusters().get("demo_provider").hosts()[0].address());
        assertEquals(15001, s.listeners().get("egress_http").address().getPort());
        assertEquals("127.0.0.1:18080", s.clusters().get("http_provider").hosts()[0].address());
    }
}
