package io.remora.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.remora.testing.TestSidecar;
import java.nio.file.Files;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The demo (scripts/demo.sh) in one JVM: SOFARPC consumer -> sidecar with the bundled routes -> SOFARPC provider. */
class HelloThroughSidecarTest {

    @Test
    void consumerGetsProviderReplyThroughBundledEgressRoute() throws Exception {
        int providerPort = TestSidecar.freePort();
        try (HelloProvider provider = HelloProvider.start(providerPort);
             TestSidecar sidecar = TestSidecar.start(BundledConfig.forTest("remora.json", Set.of("egress_bolt"),
                     Map.of("hello_provider", providerPort)))) {
            TestSidecar.AdminReply raised = sidecar.admin("POST", "/api/v1/update_loglevel",
                    "{\"log_level\":\"INFO\",\"log_path\":\"\"}");
            assertEquals(200, raised.status(), raised.body());

            String reply;
            String target = "127.0.0.1:" + sidecar.port("egress_bolt");
            try (HelloConsumer consumer = HelloConsumer.connect(target, 10_000)) {
                reply = consumer.sayHello("remora");
            }

            assertEquals("hello remora", reply);
            String log = Files.readString(sidecar.logDir().resolve("default.log"));
            assertTrue(log.contains("com.example.HelloService:1.0#sayHello") && log.contains("hello_provider"),
                    "default.log has no line for the call:\n" + log);
        }
    }
}
