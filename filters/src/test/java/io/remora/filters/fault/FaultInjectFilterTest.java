package io.remora.filters.fault;

import static io.remora.filters.testing.Rules.rule;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.DefaultEventLoop;
import io.remora.core.filter.Direction;
import io.remora.core.filter.FilterStatus;
import io.remora.core.filter.StreamFilter;
import io.remora.core.protocol.ProxyError;
import io.remora.core.protocol.ResponseClass;
import io.remora.filters.rules.ActiveRule;
import io.remora.testkit.filter.FakeCall;
import io.remora.filters.testing.Rules;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class FaultInjectFilterTest {

    static final String SVC = "com.example.HelloService:1.0";
    private final Rules rules = new Rules();
    private final StreamFilter filter = rules.governance.filter(FaultRule.KIND, Direction.OUTBOUND);

    private ActiveRule<?> state(String name) {
        for (ActiveRule<?> r : rules.governance.states()) {
            if (r.scope().name().equals(name)) {
                return r;
            }
        }
        throw new AssertionError(name);
    }

    @Test
    void abortsWithTheConfiguredNativeStatus() {
        rules.publish("{\"fault_inject\":[" + rule("boom", SVC, "\"type\":\"abort\",\"abort_status\":17") + "]}");
        FakeCall c = FakeCall.to(SVC, "sayHello");
        assertEquals(FilterStatus.STOP, filter.onRequest(c));
        assertEquals(ProxyError.FAULT_INJECTED, c.error);
        assertEquals("fault injected by rule boom", c.errorMessage);
        assertEquals(17, c.nativeStatus);
    }

    @Test
    void abortsWithTheProtocolsFaultErrorWhenNoStatusIsGiven() {
        rules.publish("{\"fault_inject\":[" + rule("boom", SVC, "\"type\":\"abort\"") + "]}");
        FakeCall c = FakeCall.to(SVC, "sayHello");
        assertEquals(FilterStatus.STOP, filter.onRequest(c));
        assertEquals(-1, c.nativeStatus);
        assertEquals(1, state("boom").counters().injected.sum());
    }

    @Test
    void samplesThePercentageWithTheRandomSource() {
        rules.publish("{\"fault_inject\":[" + rule("some", SVC, "\"type\":\"abort\",\"percentage\":12.5") + "]}");
        rules.nextRandom = 0.124;
        assertEquals(FilterStatus.STOP, filter.onRequest(FakeCall.to(SVC, "m")));
        rules.nextRandom = 0.125;
        assertEquals(FilterStatus.CONTINUE, filter.onRequest(FakeCall.to(SVC, "m")));
        rules.nextRandom = 0.9;
        assertEquals(FilterStatus.CONTINUE, filter.onRequest(FakeCall.to(SVC, "m")));
    }

    @Test
    void zeroAndHundredPercentAreExact() {
        assertTrue(FaultInjectKind.sampled(100, () -> 0.999999));
        assertTrue(!FaultInjectKind.sampled(0, () -> 0.0));
    }

    @Test
    void firstMatchingRuleApplies() {
        rules.publish("{\"fault_inject\":[" + rule("first", SVC, "\"type\":\"abort\",\"percentage\":0") + ","
                + rule("second", SVC, "\"type\":\"abort\",\"percentage\":100") + "]}");
        assertEquals(FilterStatus.CONTINUE, filter.onRequest(FakeCall.to(SVC, "m")));
        assertEquals(0, state("second").counters().injected.sum());
    }

    @Test
    void conditionsPickWhichRuleIsFirst() {
        rules.publish("{\"fault_inject\":[" + rule("gray", SVC, "\"type\":\"abort\",\"abort_status\":1,"
                + "\"conditions\":[{\"source\":\"header\",\"field\":\"env\",\"operator\":\"equals\",\"value\":\"gray\"}]")
                + "," + rule("rest", SVC, "\"type\":\"abort\",\"abort_status\":2") + "]}");
        FakeCall gray = FakeCall.to(SVC, "m").header("env", "gray");
        FakeCall other = FakeCall.to(SVC, "m");
        filter.onRequest(gray);
        filter.onRequest(other);
        assertEquals(1, gray.nativeStatus);
        assertEquals(2, other.nativeStatus);
    }

    @Test
    void firstRuleInConfigOrderWinsAcrossServiceAndMethodWildcards() {
        rules.publish("{\"fault_inject\":[" + rule("any-service", "*", "\"method\":\"m\",\"type\":\"abort\","
                + "\"abort_status\":1") + "," + rule("any-method", SVC, "\"type\":\"abort\",\"abort_status\":2") + ","
                + rule("exact", SVC, "\"method\":\"m\",\"type\":\"abort\",\"abort_status\":3") + "]}");
        FakeCall both = FakeCall.to(SVC, "m");
        FakeCall otherMethod = FakeCall.to(SVC, "n");
        FakeCall otherService = FakeCall.to("x.Other:1.0", "m");
        filter.onRequest(both);
        filter.onRequest(otherMethod);
        filter.onRequest(otherService);
        assertEquals(1, both.nativeStatus);
        assertEquals(2, otherMethod.nativeStatus);
        assertEquals(1, otherService.nativeStatus);
        assertEquals(FilterStatus.CONTINUE, filter.onRequest(FakeCall.to("x.Other:1.0", "n")));
    }

    @Test
    void delayPausesThenResumesOnTheRequestsEventLoop() throws Exception {
        rules.publish("{\"fault_inject\":[" + rule("slow", SVC, "\"type\":\"delay\",\"delay_ms\":20") + "]}");
        DefaultEventLoop loop = new DefaultEventLoop();
        try {
            CountDownLatch latch = new CountDownLatch(1);
            FakeCall c = new FakeCall() {
                @Override
                public void resume() {
                    assertTrue(loop.inEventLoop());
                    latch.countDown();
                }
            };
            c.executor(loop);
            assertEquals(FilterStatus.PAUSE, filter.onRequest(c));
            assertTrue(latch.await(5, TimeUnit.SECONDS));
            assertEquals(1, state("slow").counters().injected.sum());
        } finally {
            loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }

    @Test
    void observeModeOnlyCounts() {
        rules.publish("{\"fault_inject\":[" + rule("dry", SVC, "\"type\":\"abort\",\"mode\":\"observe\"") + "]}");
        assertEquals(FilterStatus.CONTINUE, FakeCall.to(SVC, "m").through(filter, ResponseClass.OK, 1));
        assertEquals(1, state("dry").counters().observed.sum());
        assertEquals(0, state("dry").counters().injected.sum());
    }
}
