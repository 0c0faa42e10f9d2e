package io.remora.filters.rules;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.remora.core.config.ConfigException;
import io.remora.core.config.ConfigLoader;
import io.remora.core.filter.Direction;
import io.remora.filters.auth.AccessRule;
import io.remora.filters.circuitbreaker.CircuitBreakerRule;
import io.remora.filters.fault.FaultRule;
import io.remora.filters.ratelimit.RateLimitRule;
import io.remora.testkit.filter.FakeCall;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class RuleParserTest {

    static final RuleKinds KINDS = RuleKinds.load();

    /** The examples of docs/governance.md, loaded from the files the guide links to. */
    static JsonNode example(String kind) throws Exception {
        return ConfigLoader.mapper().readTree(Files.readString(Path.of("../docs/examples/governance/" + kind + ".json")));
    }

    private static GovernanceRules parse(String json) throws Exception {
        return RuleParser.parse(KINDS, ConfigLoader.mapper().readTree(json), RuleParser.BASE_PATH);
    }

    private static ConfigException error(String json) {
        return assertThrows(ConfigException.class, () -> parse(json));
    }

    private static String r(String fields) {
        return "{\"name\":\"r1\",\"direction\":\"client\",\"service\":\"s:1.0\"," + fields + "}";
    }

    @Test
    void rateLimitExampleOfTheGuideParses() throws Exception {
        GovernanceRules g = RuleParser.parse(KINDS, example("rate_limit"), RuleParser.BASE_PATH);
        RateLimitRule qps = (RateLimitRule) g.rules(RateLimitRule.KIND).get(0);
        assertEquals("hello-qps", qps.scope().name());
        assertEquals(Direction.OUTBOUND, qps.scope().direction());
        assertFalse(qps.concurrency());
        assertEquals(100, qps.threshold());
        assertEquals(100.0, qps.capacity());
        assertTrue(qps.scope().conditions().matches(FakeCall.to("com.example.HelloService:1.0", "x").callerApp("cart")));
        RateLimitRule conc = (RateLimitRule) g.rules(RateLimitRule.KIND).get(1);
        assertTrue(conc.concurrency());
        assertEquals(Direction.INBOUND, conc.scope().direction());
        assertEquals("sayHello", conc.scope().method());
    }

    @Test
    void circuitBreakerExampleOfTheGuideParses() throws Exception {
        GovernanceRules g = RuleParser.parse(KINDS, example("circuit_breaker"), RuleParser.BASE_PATH);
        CircuitBreakerRule e = (CircuitBreakerRule) g.rules(CircuitBreakerRule.KIND).get(0);
        assertFalse(e.avgRt());
        assertEquals(0.5, e.errorRatioThreshold());
        assertEquals(20, e.minRequests());
        CircuitBreakerRule rt = (CircuitBreakerRule) g.rules(CircuitBreakerRule.KIND).get(1);
        assertTrue(rt.avgRt());
        assertEquals(200, rt.rtThresholdMs());
        assertTrue(rt.scope().observe());
    }

    @Test
    void faultAndAccessExamplesOfTheGuideParse() throws Exception {
        GovernanceRules f = RuleParser.parse(KINDS, example("fault_inject"), RuleParser.BASE_PATH);
        FaultRule abort = (FaultRule) f.rules(FaultRule.KIND).get(0);
        assertTrue(abort.abort());
        assertEquals(4, abort.abortStatus());
        assertEquals(80.0, abort.percentage());
        FaultRule delay = (FaultRule) f.rules(FaultRule.KIND).get(1);
        assertEquals(200, delay.delayMs());
        assertEquals(12.5, delay.percentage());
        GovernanceRules a = RuleParser.parse(KINDS, example("access_control"), RuleParser.BASE_PATH);
        AccessRule wl = (AccessRule) a.rules(AccessRule.KIND).get(0);
        assertTrue(wl.whitelist());
        AccessRule bl = (AccessRule) a.rules(AccessRule.KIND).get(1);
        assertFalse(bl.whitelist());
        assertTrue(bl.scope().conditions().matches(FakeCall.to("x", "y").callerIp("192.168.3.4")));
        assertFalse(bl.scope().conditions().matches(FakeCall.to("x", "y").callerIp("192.168.3.4")
                .header("x-env", "lab-approved")));
    }

    @Test
    void documentListsEveryKindAndKeepsRulesAsGiven() throws Exception {
        GovernanceRules g = RuleParser.parse(KINDS, example("fault_inject"), RuleParser.BASE_PATH);
        assertEquals(List.of("rate_limit", "circuit_breaker", "fault_inject", "access_control"), KINDS.names());
        assertEquals(KINDS.names(), iterable(g.document()));
        assertEquals(example("fault_inject").get("fault_inject"), g.document().get("fault_inject"));
        assertEquals(0, g.document().get("rate_limit").size());
    }

    private static java.util.List<String> iterable(JsonNode n) {
        java.util.List<String> out = new java.util.ArrayList<>();
        n.fieldNames().forEachRemaining(out::add);
        return out;
    }

    @Test
    void rejectsNonPositiveThresholdNamingRuleAndField() {
        ConfigException e = error("{\"rate_limit\":[" + r("\"type\":\"qps\",\"threshold\":1") + ","
                + r("\"type\":\"qps\",\"threshold\":2").replace("r1", "r2") + ","
                + r("\"type\":\"qps\",\"threshold\":-1").replace("r1", "hello-qps") + "]}");
        assertEquals("extensions.governance.rate_limit[2].threshold", e.path());
        assertEquals("extensions.governance.rate_limit[2].threshold: must be > 0, was -1 (rule \"hello-qps\")",
                e.getMessage());
    }

    @Test
    void reportsEachKindOfMistakeAtItsPath() {
        assertEquals("extensions.governance.rate_limit[0].treshold",
                error("{\"rate_limit\":[" + r("\"type\":\"qps\",\"threshold\":1,\"treshold\":2") + "]}").path());
        assertEquals("extensions.governance.rate_limit[0].direction",
                error("{\"rate_limit\":[{\"name\":\"x\",\"service\":\"s\",\"type\":\"qps\",\"threshold\":1}]}").path());
        assertEquals("extensions.governance.rate_limit[0].unit_ms",
                error("{\"rate_limit\":[" + r("\"type\":\"concurrency\",\"threshold\":1,\"unit_ms\":10") + "]}").path());
        assertEquals("extensions.governance.rate_limit[0].type",
                error("{\"rate_limit\":[" + r("\"type\":\"qpm\",\"threshold\":1") + "]}").path());
        assertEquals("extensions.governance.circuit_breaker[0].error_ratio_threshold",
                error("{\"circuit_breaker\":[" + r("\"type\":\"error_ratio\",\"error_ratio_threshold\":1.5") + "]}")
                        .path());
        assertEquals("extensions.governance.circuit_breaker[0].rt_threshold_ms",
                error("{\"circuit_breaker\":[" + r("\"type\":\"avg_rt\"") + "]}").path());
        assertEquals("extensions.governance.fault_inject[0].percentage",
                error("{\"fault_inject\":[" + r("\"type\":\"abort\",\"percentage\":100.5") + "]}").path());
        assertEquals("extensions.governance.fault_inject[0].delay_ms",
                error("{\"fault_inject\":[" + r("\"type\":\"delay\"") + "]}").path());
        assertEquals("extensions.governance.access_control[0].mode",
                error("{\"access_control\":[" + r("\"type\":\"whitelist\",\"mode\":\"enforce\"") + "]}").path());
        assertEquals("extensions.governance.access_control[1].name",
                error("{\"access_control\":[" + r("\"type\":\"whitelist\"") + "," + r("\"type\":\"blacklist\"")
                        + "]}").path());
        assertEquals("extensions.governance.rate_limits",
                error("{\"rate_limits\":[]}").path());
    }

    @Test
    void reportsConditionMistakesAtTheConditionsPath() {
        String base = "{\"access_control\":[" + r("\"type\":\"whitelist\",\"conditions\":[%s]") + "]}";
        ConfigException regex = error(String.format(base,
                "{\"source\":\"system\",\"field\":\"caller_ip\",\"operator\":\"regex\",\"value\":\"10.(\"}"));
        assertEquals("extensions.governance.access_control[0].conditions[0].value", regex.path());
        assertTrue(regex.getMessage().contains("invalid regex"), regex.getMessage());
        assertTrue(regex.getMessage().contains("rule \"r1\""), regex.getMessage());
        assertEquals("extensions.governance.access_control[0].conditions[0].values", error(String.format(base,
                "{\"source\":\"system\",\"field\":\"caller_ip\",\"operator\":\"in\"}")).path());
        assertEquals("extensions.governance.access_control[0].conditions[0].field", error(String.format(base,
                "{\"source\":\"system\",\"field\":\"caller_zone\",\"operator\":\"equals\",\"value\":\"a\"}")).path());
        assertEquals("extensions.governance.access_control[0].conditions[0].operator", error(String.format(base,
                "{\"source\":\"header\",\"field\":\"x\",\"operator\":\"like\",\"value\":\"a\"}")).path());
        assertEquals("extensions.governance.access_control[0].conditions[0].value", error(String.format(base,
                "{\"source\":\"header\",\"field\":\"x\",\"operator\":\"not_in\",\"value\":\"a\"}")).path());
    }

    @Test
    void sameContentGivesTheSameIdentityWhateverTheKeyOrder() throws Exception {
        GovernanceRules a = parse("{\"rate_limit\":[" + r("\"type\":\"qps\",\"threshold\":1") + "]}");
        GovernanceRules b = parse("{\"rate_limit\":[{\"threshold\":1,\"type\":\"qps\",\"service\":\"s:1.0\","
                + "\"direction\":\"client\",\"name\":\"r1\"}]}");
        assertEquals(a.rules(RateLimitRule.KIND).get(0).scope().identity(),
                b.rules(RateLimitRule.KIND).get(0).scope().identity());
    }
}
