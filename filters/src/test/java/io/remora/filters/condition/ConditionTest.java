package io.remora.filters.condition;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.remora.core.filter.Direction;
import io.remora.filters.rules.Governance;
import io.remora.filters.rules.RuleKinds;
import io.remora.filters.rules.RuleParser;
import io.remora.filters.rules.RuleScope;
import io.remora.testkit.filter.FakeCall;
import io.remora.core.config.ConfigLoader;
import io.remora.filters.rules.GovernanceRules;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class ConditionTest {

    private static FakeCall call() {
        return FakeCall.to("com.example.HelloService:1.0", "sayHello").callerApp("shop").callerIp("10.1.2.3")
                .header("x-env", "gray-1").protocol("bolt");
    }

    private static Condition field(Field f, Operator op, String v) {
        return Condition.onField(f, op, op.takesList() ? null : v, op.takesList() ? Set.of(v.split(",")) : null,
                op == Operator.REGEX ? Pattern.compile(v) : null);
    }

    @Test
    void equalsAndNotEqualsOnEverySystemField() {
        FakeCall c = call().targetApp("hello-server");
        assertTrue(field(Field.TRAFFIC_TYPE, Operator.EQUALS, "bolt").matches(c));
        assertTrue(field(Field.CALLER_APP, Operator.EQUALS, "shop").matches(c));
        assertTrue(field(Field.CALLER_IP, Operator.EQUALS, "10.1.2.3").matches(c));
        assertTrue(field(Field.PROVIDER_APP, Operator.EQUALS, "hello-server").matches(c));
        assertTrue(field(Field.METHOD, Operator.EQUALS, "sayHello").matches(c));
        assertTrue(field(Field.SERVICE, Operator.EQUALS, "com.example.HelloService:1.0").matches(c));
        assertFalse(field(Field.CALLER_APP, Operator.NOT_EQUALS, "shop").matches(c));
        assertTrue(field(Field.CALLER_APP, Operator.NOT_EQUALS, "bank").matches(c));
    }

    @Test
    void providerAppIsTheLocalAppOnTheServerSide() {
        FakeCall c = call().direction(Direction.INBOUND).localApp("hello-server").targetApp("other");
        assertTrue(field(Field.PROVIDER_APP, Operator.EQUALS, "hello-server").matches(c));
    }

    @Test
    void inAndNotInUseTheList() {
        assertTrue(field(Field.CALLER_APP, Operator.IN, "bank,shop").matches(call()));
        assertFalse(field(Field.CALLER_APP, Operator.IN, "bank,insurance").matches(call()));
        assertTrue(field(Field.CALLER_IP, Operator.NOT_IN, "10.0.0.1,10.0.0.2").matches(call()));
        assertFalse(field(Field.CALLER_IP, Operator.NOT_IN, "10.1.2.3").matches(call()));
    }

    @Test
    void regexMatchesTheWholeValue() {
        assertTrue(field(Field.CALLER_IP, Operator.REGEX, "10\\.1\\..*").matches(call()));
        assertFalse(field(Field.CALLER_IP, Operator.REGEX, "10\\.1").matches(call()));
    }

    @Test
    void headerConditionsReadRequestHeaders() {
        assertTrue(Condition.onHeader("x-env", Operator.REGEX, "gray-.*", null, Pattern.compile("gray-.*"))
                .matches(call()));
        assertTrue(Condition.onHeader("x-env", Operator.EQUALS, "gray-1", null, null).matches(call()));
        assertFalse(Condition.onHeader("x-env", Operator.IN, null, Set.of("prod"), null).matches(call()));
    }

    @Test
    void absentValueFailsPositiveOperatorsAndPassesNegativeOnes() {
        FakeCall c = call();
        assertFalse(Condition.onHeader("missing", Operator.EQUALS, "a", null, null).matches(c));
        assertFalse(Condition.onHeader("missing", Operator.IN, null, Set.of("a"), null).matches(c));
        assertFalse(Condition.onHeader("missing", Operator.REGEX, ".*", null, Pattern.compile(".*")).matches(c));
        assertTrue(Condition.onHeader("missing", Operator.NOT_EQUALS, "a", null, null).matches(c));
        assertTrue(Condition.onHeader("missing", Operator.NOT_IN, null, Set.of("a"), null).matches(c));
        assertFalse(field(Field.PROVIDER_APP, Operator.EQUALS, "x").matches(c));
    }

    @Test
    void allConditionsMustHoldAndEmptyMatchesAll() throws Exception {
        assertTrue(ConditionSet.ALL.matches(call()));
        GovernanceRules r = RuleParser.parse(RuleKinds.load(), ConfigLoader.mapper().readTree("""
                {"access_control":[{"name":"a","direction":"client","service":"*","type":"whitelist","conditions":[
                  {"source":"system","field":"caller_app","operator":"equals","value":"shop"},
                  {"source":"header","field":"x-env","operator":"not_in","values":["prod","stage"]},
                  {"source":"system","field":"caller_ip","operator":"regex","value":"10\\\\.1\\\\..*"}]}]}
                """), RuleParser.BASE_PATH);
        RuleScope s = r.rules("access_control").get(0).scope();
        assertEquals(3, s.conditions().size());
        assertTrue(s.conditions().matches(call()));
        assertFalse(s.conditions().matches(call().header("x-env", "prod")));
        assertFalse(s.conditions().matches(call().callerApp("bank")));
        assertFalse(s.conditions().matches(call().callerIp("192.168.0.1")));
    }
}
