package io.remora.filters.ratelimit;

import static io.remora.filters.testing.Rules.rule;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertNotSame;

import io.remora.core.filter.Direction;
import io.remora.core.filter.FilterStatus;
import io.remora.core.filter.StreamFilter;
import io.remora.core.protocol.ProxyError;
import io.remora.core.protocol.ResponseClass;
import io.remora.filters.rules.ActiveRule;
import io.remora.testkit.filter.FakeCall;
import io.remora.filters.testing.Rules;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RateLimitFilterTest {

    static final String SVC = "com.example.HelloService:1.0";
    private final Rules rules = new Rules();
    private final StreamFilter filter = rules.governance.filter(RateLimitRule.KIND, Direction.OUTBOUND);

    private static String set(String... rls) {
        return "{\"rate_limit\":[" + String.join(",", rls) + "]}";
    }

    private FilterStatus call() {
        return FakeCall.to(SVC, "sayHello").through(filter, ResponseClass.OK, 1_000_000);
    }

    private int passes(int attempts) {
        int ok = 0;
        for (int i = 0; i < attempts; i++) {
            if (call() == FilterStatus.CONTINUE) {
                ok++;
            }
        }
        return ok;
    }

    private RateLimiter state(String name) {
        for (ActiveRule<?> r : rules.governance.states()) {
            if (r.scope().name().equals(name)) {
                return (RateLimiter) r;
            }
        }
        throw new AssertionError(name);
    }

    @Test
    void rejectsWhenBucketEmptyWithTheRuleNamedInTheNativeError() {
        rules.publish(set(rule("hello-qps", SVC, "\"type\":\"qps\",\"threshold\":3")));
        assertEquals(3, passes(3));
        FakeCall c = FakeCall.to(SVC, "sayHello");
        assertEquals(FilterStatus.STOP, filter.onRequest(c));
        assertEquals(ProxyError.RATE_LIMITED, c.error);
        assertEquals("rate limited by rule hello-qps", c.errorMessage);
        rules.advanceMillis(1000);
        assertEquals(3, passes(5));
        assertEquals(6, state("hello-qps").counters().passed.sum());
        assertEquals(3, state("hello-qps").counters().rejected.sum());
    }

    @Test
    void leavesOtherServicesMethodsAndDirectionsAlone() {
        rules.publish(set(rule("one", SVC, "\"method\":\"sayHello\",\"type\":\"qps\",\"threshold\":1")));
        assertEquals(1, passes(5));
        assertEquals(FilterStatus.CONTINUE, FakeCall.to(SVC, "other").through(filter, ResponseClass.OK, 1));
        assertEquals(FilterStatus.CONTINUE, FakeCall.to("x.Other:1.0", "sayHello").through(filter, ResponseClass.OK, 1));
        StreamFilter inbound = rules.governance.filter(RateLimitRule.KIND, Direction.INBOUND);
        assertEquals(FilterStatus.CONTINUE, FakeCall.to(SVC, "sayHello").through(inbound, ResponseClass.OK, 1));
    }

    @Test
    void concurrencyLimitCountsCallsInFlightAndReleasesOnComplete() {
        rules.publish(set(rule("conc", SVC, "\"type\":\"concurrency\",\"threshold\":2")));
        List<FakeCall> inFlight = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            FakeCall c = FakeCall.to(SVC, "sayHello");
            assertEquals(FilterStatus.CONTINUE, filter.onRequest(c));
            inFlight.add(c);
        }
        FakeCall third = FakeCall.to(SVC, "sayHello");
        assertEquals(FilterStatus.STOP, filter.onRequest(third));
        assertEquals("rate limited by rule conc", third.errorMessage);
        assertEquals(2, state("conc").concurrency());
        filter.onComplete(inFlight.get(0), ResponseClass.TIMEOUT, 5);
        assertEquals(1, state("conc").concurrency());
        assertEquals(FilterStatus.CONTINUE, filter.onRequest(FakeCall.to(SVC, "sayHello")));
        assertEquals(1, state("conc").counters().exceptions.sum());
    }

    @Test
    void smallestLimitWinsForTheSameServiceAndConditions() {
        rules.publish(set(rule("big", SVC, "\"type\":\"qps\",\"threshold\":10"),
                rule("small", SVC, "\"type\":\"qps\",\"threshold\":4"),
                rule("medium", SVC, "\"type\":\"qps\",\"threshold\":6")));
        assertEquals(4, passes(20));
        FakeCall c = FakeCall.to(SVC, "sayHello");
        filter.onRequest(c);
        assertEquals("rate limited by rule small", c.errorMessage);
        assertEquals("small", state("big").shadowedBy());
        assertNull(state("small").shadowedBy());
    }

    @Test
    void smallestWinsComparesRatesAcrossUnits() {
        // 3 per 100 ms (30/s) is smaller than 50 per second.
        rules.publish(set(rule("per-second", SVC, "\"type\":\"qps\",\"threshold\":50"),
                rule("per-100ms", SVC, "\"type\":\"qps\",\"threshold\":3,\"unit_ms\":100")));
        assertEquals(3, passes(10));
        assertEquals("per-100ms", state("per-second").shadowedBy());
    }

    @Test
    void rulesWithDifferentConditionsAllApply() {
        rules.publish(set(rule("all", SVC, "\"type\":\"qps\",\"threshold\":5"),
                rule("shop-only", SVC, "\"type\":\"qps\",\"threshold\":2,\"conditions\":[{\"source\":\"system\","
                        + "\"field\":\"caller_app\",\"operator\":\"equals\",\"value\":\"shop\"}]")));
        int shop = 0;
        for (int i = 0; i < 5; i++) {
            if (FakeCall.to(SVC, "m").callerApp("shop").through(filter, ResponseClass.OK, 1) == FilterStatus.CONTINUE) {
                shop++;
            }
        }
        assertEquals(2, shop);
        // The shop calls refused by "shop-only" gave their "all" tokens back.
        assertEquals(3, passes(10));
    }

    @Test
    void rejectionByALaterRuleReleasesTheConcurrencyTakenByAnEarlierOne() {
        rules.publish(set(rule("conc", SVC, "\"type\":\"concurrency\",\"threshold\":100"),
                rule("qps", SVC, "\"type\":\"qps\",\"threshold\":1")));
        assertEquals(FilterStatus.CONTINUE, filter.onRequest(FakeCall.to(SVC, "m")));
        assertEquals(FilterStatus.STOP, filter.onRequest(FakeCall.to(SVC, "m")));
        assertEquals(1, state("conc").concurrency());
    }

    @Test
    void rejectionByALaterRuleGivesBackTheTokenOfAnEarlierOne() {
        rules.publish(set(rule("first", SVC, "\"type\":\"qps\",\"threshold\":2"),
                rule("second", SVC, "\"type\":\"qps\",\"threshold\":1,\"method\":\"m\"")));
        assertEquals(FilterStatus.CONTINUE, filter.onRequest(FakeCall.to(SVC, "m")));
        assertEquals(FilterStatus.STOP, filter.onRequest(FakeCall.to(SVC, "m")));
        assertEquals(1, state("first").tokens());
    }

    @Test
    void observeModeLetsEverythingThroughAndCountsWouldBeRejections() {
        rules.publish(set(rule("watch", SVC, "\"type\":\"qps\",\"threshold\":2,\"mode\":\"observe\"")));
        assertEquals(10, passes(10));
        assertEquals(8, state("watch").counters().observed.sum());
        assertEquals(0, state("watch").counters().rejected.sum());
    }

    @Test
    void disabledRulesAndRulesForOtherAppsDoNothing() {
        rules.publish(set(rule("off", SVC, "\"type\":\"qps\",\"threshold\":1,\"enabled\":false"),
                rule("other-app", SVC, "\"type\":\"qps\",\"threshold\":1,\"app\":\"someone-else\"")), "me");
        assertEquals(5, passes(5));
        rules.publish(set(rule("mine", SVC, "\"type\":\"qps\",\"threshold\":1,\"app\":\"me\"")), "me");
        assertEquals(1, passes(5));
    }

    @Test
    void unchangedRuleKeepsItsBucketAcrossRepublish() {
        String r = rule("hello-qps", SVC, "\"type\":\"qps\",\"threshold\":3");
        rules.publish(set(r));
        RateLimiter before = state("hello-qps");
        assertEquals(3, passes(3));
        rules.publish(set(r, rule("other", "x.Y:1.0", "\"type\":\"qps\",\"threshold\":1")));
        assertSame(before, state("hello-qps"));
        assertEquals(0, passes(3));
        rules.publish(set(rule("hello-qps", SVC, "\"type\":\"qps\",\"threshold\":4")));
        assertNotSame(before, state("hello-qps"));
        assertEquals(4, passes(5));
    }
}
