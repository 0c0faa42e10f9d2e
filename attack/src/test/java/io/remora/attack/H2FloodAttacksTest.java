package io.remora.attack;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * HTTP/2 control-frame floods (SETTINGS, PING) whose answers the attacker never reads, until Netty's limit of 10,000
 * queued control frames closes the connection. Over loopback the kernel first absorbs ~4 MB of answers (~450,000
 * SETTINGS ACKs), so the limit is reached only after about half a million frames: with the leak detector at PARANOID
 * every ack buffer records a stack trace (~0.1 ms each, 100 times the normal cost) and that takes a minute of one
 * event loop, starving its other connections. So this one sidecar runs with the product's default detector (SIMPLE,
 * sampling), which still reports leaks; the ack path itself is also run under PARANOID by
 * {@link ProtocolAttacksTest#h2ControlFrameBurstNeverRead()}.
 */
class H2FloodAttacksTest {

    private static Rig rig;

    @BeforeAll
    static void start() throws Exception {
        rig = Rig.start("h2floods", null, null, null,
                Map.of("REMORA_EXTRA_OPTS", "-Dio.netty.leakDetection.level=simple"), false);
    }

    @AfterAll
    static void stop() throws Exception {
        if (rig != null) {
            rig.close();
        }
        AttackReport.print();
    }

    private static void flood(String name, byte[] frame) throws Exception {
        rig.attack(name)
                .logGap("protocol-http logs no HTTP/2 connection error (Netty logs its own at INFO, below io.netty's "
                        + "WARN)")
                .run(() -> {
                    long t0 = System.nanoTime();
                    int conns = 0;
                    long most = 0;
                    for (; ProtocolAttacksTest.again(t0, conns, 1); conns++) {
                        long[] r = ProtocolAttacksTest.controlFlood(rig.httpPort, frame, Long.MAX_VALUE);
                        assertEquals(1, r[1], "the sidecar closed the flooding connection after " + r[0] + " frames");
                        most = Math.max(most, r[0]);
                    }
                    return conns + " connections flooded unread, each closed by the sidecar (10,000 queued control "
                            + "frames) after at most " + most + " frames";
                });
    }

    @Test
    void settingsFloodIsClosed() throws Exception {
        flood("HTTP/2: SETTINGS flood, never read (leak detection SIMPLE)", Wire.frame(Wire.SETTINGS, 0, 0,
                new byte[0]));
    }

    @Test
    void pingFloodIsClosed() throws Exception {
        flood("HTTP/2: PING flood, never read (leak detection SIMPLE)", Wire.frame(Wire.PING, 0, 0, new byte[8]));
    }
}
