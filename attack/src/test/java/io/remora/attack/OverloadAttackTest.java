package io.remora.attack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The overload manager under real memory pressure: large Bolt requests to a provider that reads nothing pile up in
 * the sidecar's direct memory ({@code REMORA_DIRECT_MB=128}, {@code overload.direct_percent} 30); the sidecar must
 * shed with the native overload errors, then recover once the provider drains, the healthy clients getting success
 * or the clear overload error, never a hang or a timeout.
 */
class OverloadAttackTest {

    private static Rig rig;

    @BeforeAll
    static void start() throws Exception {
        rig = Rig.start("overload", null, "{\"direct_percent\": 30, \"heap_percent\": 95, \"check_interval_ms\": 100}",
                null, Map.of("REMORA_DIRECT_MB", "128"), true);
    }

    @AfterAll
    static void stop() throws Exception {
        if (rig != null) {
            rig.close();
        }
        AttackReport.print();
    }

    private static double overloaded() throws IOException {
        return rig.remora.metric("remora_overload_active");
    }

    @Test
    void shedsWithTheNativeOverloadErrorAndRecovers() throws Exception {
        double shedBefore = rig.remora.metric("remora_overload_shed_requests_total");
        long[][][] afterRecovery = new long[1][][];
        rig.attack("overload: 2 MB Bolt requests held by a provider that reads nothing (direct_percent 30 of 128 MB)")
                .allowOverload()
                .expectLog("limits.log", "(overloaded: heap|recovered from overload: heap)", 2)
                .run(() -> {
                    List<Socket> attackers = new ArrayList<>();
                    double peak = 0;
                    long overloadedAt = 0;
                    long recoveredAt = 0;
                    long t0 = System.nanoTime();
                    try {
                        // one 2 MB request every 50 ms, each on its own connection: each is forwarded to the
                        // provider, which reads nothing, so the sidecar holds it, until the threshold is crossed
                        for (int i = 0; i < 60 && overloaded() == 0; i++) {
                            Socket s = Raw.connect(rig.boltPort);
                            attackers.add(s);
                            Origins.write(s.getOutputStream(), Wire.boltRequest(i, Rig.HOLD_BOLT, 3000, 2 << 20));
                            Thread.sleep(50);
                            peak = Math.max(peak, rig.remora.directPercent());
                        }
                        while (overloaded() == 0 && Raw.ms(t0) < 10_000) {
                            peak = Math.max(peak, rig.remora.directPercent());
                            Thread.sleep(50); // the manager samples every 100 ms
                        }
                        assertEquals(1.0, overloaded(), "overloaded (direct " + peak + "%)");
                        overloadedAt = Raw.ms(t0);
                        Thread.sleep(1500); // shedding: the healthy clients get the overload error meanwhile
                        peak = Math.max(peak, rig.remora.directPercent());
                        rig.holdBolt.release(); // the provider drains what the sidecar queued for it
                        while (overloaded() == 1 && Raw.ms(t0) < 20_000) {
                            Thread.sleep(50);
                        }
                        if (overloaded() != 0) {
                            rig.remora.gc();
                            Thread.sleep(500);
                        }
                        assertEquals(0.0, overloaded(), "recovered (direct " + rig.remora.directPercent()
                                + "%, the provider read " + rig.holdBolt.bytes.get() + " bytes)");
                        recoveredAt = Raw.ms(t0);
                        afterRecovery[0] = rig.healthy.mark();
                        rig.healthy.awaitCalls(afterRecovery[0], 10, 5000);
                    } finally {
                        for (Socket s : attackers) {
                            s.close();
                        }
                    }
                    HealthyClients.Window after = rig.healthy.since(afterRecovery[0]);
                    assertEquals(0, after.overload() + after.failed(), "after recovery every call succeeds: "
                            + after.describe());
                    double shed = rig.remora.metric("remora_overload_shed_requests_total") - shedBefore;
                    assertTrue(shed > 0, "requests were shed");
                    return String.format(Locale.ROOT, "%d requests of 2 MB, one per connection; direct memory peaked at %.1f%% (limit "
                            + "30%%); overloaded after %d ms, recovered %d ms after the provider drained; %.0f requests"
                            + " shed with the overload error; after recovery: %s", attackers.size(), peak,
                            overloadedAt, recoveredAt - overloadedAt - 1500, shed, after.describe());
                });
    }
}
