package io.remora.filters.circuitbreaker;

import static io.remora.filters.testing.Rules.rule;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.remora.core.filter.Direction;
import io.remora.core.filter.FilterStatus;
import io.remora.core.filter.StreamFilter;
import io.remora.core.protocol.ProxyError;
import io.remora.core.protocol.ResponseClass;
import io.remora.filters.rules.ActiveRule;
import io.remora.testkit.filter.FakeCall;
import io.remora.filters.testing.Rules;
import org.junit.jupiter.api.Test;

class CircuitBreakerFilterTest {

    static final String SVC = "com.example.HelloService:1.0";
    static final long MS = 1_000_000L;
    private final Rules rules = new Rules();
    private final StreamFilter filter = rules.governance.filter(CircuitBreakerRule.KIND, Direction.OUTBOUND);

    private static String errorRatio(String extra) {
        return "{\"circuit_breaker\":[" + rule("cb", SVC, "\"method\":\"sayHello\",\"type\":\"error_ratio\","
                + "\"window_s\":10,\"min_requests\":4,\"error_ratio_threshold\":0.5,\"open_duration_ms\":5000"
                + extra) + "]}";
    }

    private FilterStatus call(ResponseClass result) {
        return call(result, 1 * MS);
    }

    private FilterStatus call(ResponseClass result, long rtNanos) {
        return FakeCall.to(SVC, "sayHello").through(filter, result, rtNanos);
    }

    private BreakerGroup group() {
        for (ActiveRule<?> r : rules.governance.states()) {
            if (r instanceof BreakerGroup g) {
                return g;
            }
        }
        throw new AssertionError();
    }

    private CircuitBreaker.Phase phase() {
        return group().breakerFor(SVC, "sayHello").phase();
    }

    @Test
    void staysClosedBelowMinimumRequests() {
        rules.publish(errorRatio(""));
        for (int i = 0; i < 3; i++) {
            assertEquals(FilterStatus.CONTINUE, call(ResponseClass.RPC_ERROR));
        }
        assertEquals(CircuitBreaker.Phase.CLOSED, phase());
    }

    @Test
    void opensOnErrorRatioAndFailsFastNamingTheRule() {
        rules.publish(errorRatio(""));
        call(ResponseClass.OK);
        call(ResponseClass.OK);
        call(ResponseClass.BUSINESS_ERROR);
        assertEquals(CircuitBreaker.Phase.CLOSED, phase());
        call(ResponseClass.TIMEOUT);
        assertEquals(CircuitBreaker.Phase.OPEN, phase());
        FakeCall c = FakeCall.to(SVC, "sayHello");
        assertEquals(FilterStatus.STOP, filter.onRequest(c));
        assertEquals(ProxyError.CIRCUIT_OPEN, c.error);
        assertEquals("circuit open by rule cb", c.errorMessage);
        assertEquals(1, group().counters().rejected.sum());
    }

    @Test
    void halfOpenLetsExactlyOneTrialThroughAndClosesOnSuccess() {
        rules.publish(errorRatio(""));
        for (int i = 0; i < 4; i++) {
            call(ResponseClass.RPC_ERROR);
        }
        rules.advanceMillis(4999);
        assertEquals(FilterStatus.STOP, filter.onRequest(FakeCall.to(SVC, "sayHello")));
        rules.advanceMillis(1);
        FakeCall trial = FakeCall.to(SVC, "sayHello");
        assertEquals(FilterStatus.CONTINUE, filter.onRequest(trial));
        assertEquals(CircuitBreaker.Phase.HALF_OPEN, phase());
        assertEquals(FilterStatus.STOP, filter.onRequest(FakeCall.to(SVC, "sayHello")));
        filter.onComplete(trial, ResponseClass.OK, MS);
        assertEquals(CircuitBreaker.Phase.CLOSED, phase());
        // A fresh window: the old errors are forgotten.
        call(ResponseClass.RPC_ERROR);
        assertEquals(CircuitBreaker.Phase.CLOSED, phase());
    }

    @Test
    void failedTrialReopensForAnotherOpenDuration() {
        rules.publish(errorRatio(""));
        for (int i = 0; i < 4; i++) {
            call(ResponseClass.RPC_ERROR);
        }
        rules.advanceMillis(5000);
        assertEquals(FilterStatus.CONTINUE, call(ResponseClass.RPC_ERROR));
        assertEquals(CircuitBreaker.Phase.OPEN, phase());
        rules.advanceMillis(4000);
        assertEquals(FilterStatus.STOP, filter.onRequest(FakeCall.to(SVC, "sayHello")));
        rules.advanceMillis(1000);
        assertEquals(FilterStatus.CONTINUE, call(ResponseClass.OK));
        assertEquals(CircuitBreaker.Phase.CLOSED, phase());
    }

    @Test
    void lostTrialIsReplacedAfterTheOpenDuration() {
        rules.publish(errorRatio(""));
        for (int i = 0; i < 4; i++) {
            call(ResponseClass.RPC_ERROR);
        }
        rules.advanceMillis(5000);
        assertEquals(FilterStatus.CONTINUE, filter.onRequest(FakeCall.to(SVC, "sayHello")));
        rules.advanceMillis(5000);
        assertEquals(FilterStatus.CONTINUE, call(ResponseClass.OK));
        assertEquals(CircuitBreaker.Phase.CLOSED, phase());
    }

    @Test
    void oldErrorsLeaveTheSlidingWindow() {
        rules.publish(errorRatio(""));
        call(ResponseClass.RPC_ERROR);
        call(ResponseClass.RPC_ERROR);
        call(ResponseClass.RPC_ERROR);
        rules.advanceMillis(10_000);
        call(ResponseClass.OK);
        call(ResponseClass.OK);
        call(ResponseClass.OK);
        call(ResponseClass.RPC_ERROR);
        assertEquals(CircuitBreaker.Phase.CLOSED, phase(), "1 error in 4 calls after the window moved");
        rules.advanceMillis(5_000);
        call(ResponseClass.RPC_ERROR);
        call(ResponseClass.RPC_ERROR);
        call(ResponseClass.RPC_ERROR);
        assertEquals(CircuitBreaker.Phase.OPEN, phase(), "4 errors in 7 calls within 10 s");
    }

    @Test
    void averageRtBreakerOpensOnSlowCallsAndJudgesTheTrialBySpeed() {
        rules.publish("{\"circuit_breaker\":[" + rule("slow", SVC, "\"type\":\"avg_rt\",\"min_requests\":3,"
                + "\"rt_threshold_ms\":100,\"open_duration_ms\":1000") + "]}");
        call(ResponseClass.OK, 50 * MS);
        call(ResponseClass.OK, 120 * MS);
        assertEquals(CircuitBreaker.Phase.CLOSED, phase());
        call(ResponseClass.OK, 140 * MS);
        assertEquals(CircuitBreaker.Phase.OPEN, phase(), "avg 103 ms >= 100 ms");
        rules.advanceMillis(1000);
        call(ResponseClass.OK, 150 * MS);
        assertEquals(CircuitBreaker.Phase.OPEN, phase(), "slow trial re-opens");
        rules.advanceMillis(1000);
        call(ResponseClass.OK, 10 * MS);
        assertEquals(CircuitBreaker.Phase.CLOSED, phase());
    }

    @Test
    void wildcardRuleKeepsOneBreakerPerServiceAndMethod() {
        rules.publish("{\"circuit_breaker\":[" + rule("any", "*", "\"type\":\"error_ratio\",\"min_requests\":2,"
                + "\"error_ratio_threshold\":1") + "]}");
        FakeCall.to("a.A:1.0", "x").through(filter, ResponseClass.RPC_ERROR, MS);
        FakeCall.to("a.A:1.0", "x").through(filter, ResponseClass.RPC_ERROR, MS);
        assertEquals(FilterStatus.STOP, filter.onRequest(FakeCall.to("a.A:1.0", "x")));
        assertEquals(FilterStatus.CONTINUE, filter.onRequest(FakeCall.to("a.A:1.0", "y")));
        assertEquals(FilterStatus.CONTINUE, filter.onRequest(FakeCall.to("b.B:1.0", "x")));
    }

    @Test
    void observeModeNeverFailsFastButCountsIt() {
        rules.publish(errorRatio(",\"mode\":\"observe\""));
        for (int i = 0; i < 4; i++) {
            call(ResponseClass.RPC_ERROR);
        }
        assertEquals(CircuitBreaker.Phase.OPEN, phase());
        assertEquals(FilterStatus.CONTINUE, call(ResponseClass.OK));
        assertEquals(FilterStatus.CONTINUE, call(ResponseClass.OK));
        assertEquals(2, group().counters().observed.sum());
        assertEquals(0, group().counters().rejected.sum());
    }

    @Test
    void callRefusedByALaterRuleIsNotCountedPassedByAnEarlierOne() {
        rules.publish("{\"circuit_breaker\":[" + rule("roomy", SVC, "\"type\":\"error_ratio\",\"min_requests\":100,"
                + "\"error_ratio_threshold\":1") + "," + rule("strict", SVC, "\"type\":\"error_ratio\","
                + "\"min_requests\":1,\"error_ratio_threshold\":1") + "]}");
        call(ResponseClass.RPC_ERROR);
        assertEquals(FilterStatus.STOP, filter.onRequest(FakeCall.to(SVC, "sayHello")));
        ActiveRule<?> roomy = rules.governance.states().get(0);
        assertEquals(1, roomy.counters().passed.sum(), "the second call was rolled back, not passed");
        assertEquals(1, rules.governance.states().get(1).counters().rejected.sum());
    }

    @Test
    void breakerStateSurvivesRepublishOfTheSameRule() {
        rules.publish(errorRatio(""));
        for (int i = 0; i < 4; i++) {
            call(ResponseClass.RPC_ERROR);
        }
        rules.publish("{\"circuit_breaker\":" + errorRatio("").substring("{\"circuit_breaker\":".length(),
                errorRatio("").length() - 1) + ",\"rate_limit\":[]}");
        assertEquals(CircuitBreaker.Phase.OPEN, phase());
    }
}
