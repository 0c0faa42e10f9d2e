package io.remora.examples.dubbo;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.remora.examples.BundledConfig;
import io.remora.testing.TestSidecar;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Dubbo consumer -> sidecar (the bundled egress_dubbo listener) -> Dubbo provider. */
class DemoThroughSidecarTest {

    @Test
    void dubboConsumerGetsProviderReplyThroughBundledEgressRoute() throws Exception {
        int providerPort = TestSidecar.freePort();
        try (DemoProvider provider = DemoProvider.start(providerPort);
             TestSidecar sidecar = TestSidecar.start(BundledConfig.forTest("remora.json",
                     Set.of("egress_dubbo"), Map.of("demo_provider", providerPort)));
             DemoConsumer consumer = DemoConsumer.connect("127.0.0.1:" + sidecar.port("egress_dubbo"), 10_000)) {

            assertEquals("hello dubbo", consumer.sayHello("dubbo"));
        }
    }
}
