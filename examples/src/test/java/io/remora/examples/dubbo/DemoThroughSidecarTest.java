package io.remora.examples.dubbo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.remora.core.protocol.ProtocolRegistry;
import io.remora.examples.BundledConfig;
import io.remora.testing.TestSidecar;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Dubbo consumer -> sidecar (the bundled egress_dubbo listener) -> Dubbo provider. Runs once protocol-dubbo exists. */
class DemoThroughSidecarTest {

    @Test
    void dubboConsumerGetsProviderReplyThroughBundledEgressRoute() throws Exception {
        assumeTrue(ProtocolRegistry.load().get("dubbo") != null, "protocol-dubbo is not on the class path yet");
        int providerPort = TestSidecar.freePort();
        try (DemoProvider provider = DemoProvider.start(providerPort);
             TestSidecar sidecar = TestSidecar.start(BundledConfig.forTest("remora-with-dubbo.json",
                     Set.of("egress_dubbo"), Map.of("demo_provider", providerPort)));
             DemoConsumer consumer = DemoConsumer.connect("127.0.0.1:" + sidecar.port("egress_dubbo"), 3000)) {

            assertEquals("hello dubbo", consumer.sayHello("dubbo"));
        }
    }
}
