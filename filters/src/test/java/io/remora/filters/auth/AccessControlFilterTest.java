package io.remora.filters.auth;

import static io.remora.filters.testing.Rules.rule;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.remora.core.filter.Direction;
import io.remora.core.filter.FilterStatus;
import io.remora.core.filter.StreamFilter;
import io.remora.core.protocol.ProxyError;
import io.remora.filters.rules.ActiveRule;
import io.remora.testkit.filter.FakeCall;
import io.remora.filters.testing.Rules;
import org.junit.jupiter.api.Test;

class AccessControlFilterTest {

    static final String SVC = "com.example.HelloService:1.0";
    private final Rules rules = new Rules();
    private final StreamFilter filter = rules.governance.filter(AccessRule.KIND, Direction.INBOUND);

    private static String acl(String name, String type, String cond, String extra) {
        return rule(name, SVC, "\"type\":\"" + type + "\",\"conditions\":[" + cond + "]" + extra)
                .replace("\"direction\":\"client\"", "\"direction\":\"server\"");
    }

    private static String callerApp(String op, String values) {
        return "{\"source\":\"system\",\"field\":\"caller_app\",\"operator\":\"" + op + "\","
                + (op.endsWith("in") ? "\"values\":" + values : "\"value\":" + values) + "}";
    }

    private FakeCall from(String app, String ip) {
        return FakeCall.to(SVC, "sayHello").callerApp(app).callerIp(ip).direction(Direction.INBOUND);
    }

    private ActiveRule<?> state(String name) {
        return rules.governance.states().stream().filter(r -> r.scope().name().equals(name)).findFirst().orElseThrow();
    }

    @Test
    void whitelistAdmitsMatchingCallersAndDeniesOthers() {
        rules.publish("{\"access_control\":[" + acl("only-shop", "whitelist", callerApp("in", "[\"shop\",\"cart\"]"),
                "") + "]}");
        assertEquals(FilterStatus.CONTINUE, filter.onRequest(from("shop", "10.0.0.1")));
        FakeCall bank = from("bank", "10.0.0.1");
        assertEquals(FilterStatus.STOP, filter.onRequest(bank));
        assertEquals(ProxyError.UNAUTHORIZED, bank.error);
        assertEquals("access denied by rule only-shop", bank.errorMessage);
        assertEquals(FilterStatus.STOP, filter.onRequest(from(null, "10.0.0.1")));
    }

    @Test
    void blacklistDeniesMatchingCallersByIp() {
        rules.publish("{\"access_control\":[" + acl("no-lab", "blacklist",
                "{\"source\":\"system\",\"field\":\"caller_ip\",\"operator\":\"regex\",\"value\":\"192\\\\.168\\\\..*\"}",
                "") + "]}");
        assertEquals(FilterStatus.STOP, filter.onRequest(from("shop", "192.168.1.9")));
        assertEquals(FilterStatus.CONTINUE, filter.onRequest(from("shop", "10.0.0.1")));
        assertEquals(1, state("no-lab").counters().rejected.sum());
        assertEquals(1, state("no-lab").counters().passed.sum());
    }

    @Test
    void anyMatchingWhitelistAdmitsButABlacklistStillDenies() {
        rules.publish("{\"access_control\":[" + acl("wl-shop", "whitelist", callerApp("equals", "\"shop\""), "") + ","
                + acl("wl-cart", "whitelist", callerApp("equals", "\"cart\""), "") + ","
                + acl("bl-ip", "blacklist", "{\"source\":\"system\",\"field\":\"caller_ip\",\"operator\":\"equals\","
                + "\"value\":\"10.9.9.9\"}", "") + "]}");
        assertEquals(FilterStatus.CONTINUE, filter.onRequest(from("cart", "10.0.0.1")));
        assertEquals(FilterStatus.CONTINUE, filter.onRequest(from("shop", "10.0.0.1")));
        FakeCall bad = from("shop", "10.9.9.9");
        assertEquals(FilterStatus.STOP, filter.onRequest(bad));
        assertEquals("access denied by rule bl-ip", bad.errorMessage);
        FakeCall stranger = from("bank", "10.0.0.1");
        filter.onRequest(stranger);
        assertEquals("access denied by rule wl-shop", stranger.errorMessage);
    }

    @Test
    void methodScopedRuleLeavesOtherMethodsOpen() {
        rules.publish("{\"access_control\":[" + acl("admin-only", "whitelist", callerApp("equals", "\"ops\""),
                ",\"method\":\"sayHello\"") + "]}");
        assertEquals(FilterStatus.STOP, filter.onRequest(from("shop", "10.0.0.1")));
        assertEquals(FilterStatus.CONTINUE, filter.onRequest(
                FakeCall.to(SVC, "other").callerApp("shop").direction(Direction.INBOUND)));
    }

    @Test
    void observeModeCountsWouldBeDenialsOnly() {
        rules.publish("{\"access_control\":[" + acl("dry", "blacklist", callerApp("not_in", "[\"shop\"]"),
                ",\"mode\":\"observe\"") + "]}");
        assertEquals(FilterStatus.CONTINUE, filter.onRequest(from("bank", "10.0.0.1")));
        assertEquals(FilterStatus.CONTINUE, filter.onRequest(from("shop", "10.0.0.1")));
        assertEquals(1, state("dry").counters().observed.sum());
        assertEquals(0, state("dry").counters().rejected.sum());
    }

    @Test
    void clientSideRulesDoNotApplyOnTheServerSide() {
        rules.publish("{\"access_control\":[" + rule("client", SVC, "\"type\":\"blacklist\"") + "]}");
        assertEquals(FilterStatus.CONTINUE, filter.onRequest(from("shop", "10.0.0.1")));
        StreamFilter outbound = rules.governance.filter(AccessRule.KIND, Direction.OUTBOUND);
        assertEquals(FilterStatus.STOP, outbound.onRequest(FakeCall.to(SVC, "m")));
    }
}
