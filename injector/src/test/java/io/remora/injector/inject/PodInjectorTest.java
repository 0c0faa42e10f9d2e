package io.remora.injector.inject;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.flipkart.zjsonpatch.JsonPatch;
import io.remora.injector.Pods;
import io.remora.injector.inject.InjectionResult.Outcome;
import io.remora.injector.inject.InjectionResult.SkipReason;
import org.junit.jupiter.api.Test;

/** The injector's decisions, without HTTP (the webhook tests cover the same over the wire). */
class PodInjectorTest {

    private static final String TEMPLATE = InjectionConfig.resource(InjectionConfig.BUNDLED_TEMPLATE);
    private static final String VALUES = InjectionConfig.resource(InjectionConfig.BUNDLED_VALUES);

    private final PodInjector bundled = new PodInjector(InjectionConfig::bundled);

    @Test
    void disabledPolicyInjectsOnlyPodsThatOptIn() {
        InjectionConfig cfg = InjectionConfig.parse(TEMPLATE, VALUES.replace("policy: enabled", "policy: disabled"));
        PodInjector injector = new PodInjector(() -> cfg);
        InjectionResult plain = injector.inject(Pods.app(), "shop");
        assertEquals(SkipReason.POLICY_DISABLED, plain.reason());
        assertEquals(Outcome.INJECTED, injector.inject(Pods.withLabels(Pods.app(), "sidecar.remora.io/inject",
                "true"), "shop").outcome());
        assertEquals(Outcome.INJECTED, injector.inject(Pods.withAnnotations(Pods.app(), "sidecar.istio.io/inject",
                "yes"), "shop").outcome());
    }

    @Test
    void malformedInjectValueIsIgnoredWithAWarning() {
        InjectionResult r = bundled.inject(Pods.withAnnotations(Pods.app(), "sidecar.remora.io/inject", "maybe"),
                "shop");
        assertEquals(Outcome.INJECTED, r.outcome());
        assertEquals(1, r.warnings().size());
        assertTrue(r.warnings().get(0).contains("sidecar.remora.io/inject=\"maybe\""), r.warnings().toString());
    }

    @Test
    void volumeNameClashFailsTheInjection() {
        ObjectNode pod = Pods.app();
        ((ObjectNode) pod.get("spec")).putArray("volumes").addObject().put("name", "remora-logs").putObject("emptyDir");
        InjectionResult r = bundled.inject(pod, "shop");
        assertEquals(Outcome.FAILED, r.outcome());
        assertEquals("the pod already has a volume named remora-logs", r.message());
        assertTrue(r.patch().isEmpty());
    }

    @Test
    void ownPatchApplierAgreesWithZjsonpatch() {
        for (ObjectNode pod : new ObjectNode[] {
                Pods.app(),
                Pods.withAnnotations(Pods.app(), "sidecar.remora.io/interceptionMode", "TPROXY", "a/b~c", "x"),
                Pods.parse("{\"spec\":{\"containers\":[{\"name\":\"app\",\"image\":\"a:1\"}],"
                        + "\"initContainers\":[{\"name\":\"i\",\"image\":\"i:1\"}],"
                        + "\"volumes\":[]}}")}) {
            InjectionResult r = bundled.inject(pod, null);
            assertEquals(Outcome.INJECTED, r.outcome(), r.message());
            JsonNode theirs = JsonPatch.apply(r.patch(), pod);
            ObjectNode ours = pod.deepCopy();
            JsonPatches.apply(ours, r.patch());
            assertEquals(theirs, ours);
        }
        assertEquals("remora.io~1status", JsonPatches.escape("remora.io/status"));
        assertEquals("a~0b~1c", JsonPatches.escape("a~b/c"));
    }

    @Test
    void badConfigIsRejectedAtLoadWithItsField() {
        InjectionException t = assertThrows(InjectionException.class,
                () -> InjectionConfig.parse(TEMPLATE.replace("{{ interception.image }}", "{{ interception.imgae }}"),
                        VALUES));
        assertTrue(t.getMessage().startsWith("template: "), t.getMessage());
        assertTrue(t.getMessage().contains("TPROXY"), "found by the interception self-check: " + t.getMessage());

        InjectionException v = assertThrows(InjectionException.class,
                () -> InjectionConfig.parse(TEMPLATE, VALUES.replace("adminPort: 34901", "adminPort: 99999")));
        assertTrue(v.getMessage().contains("adminPort must be a number from 1 to 65535"), v.getMessage());

        InjectionException y = assertThrows(InjectionException.class, () -> InjectionConfig.parse("a: [", VALUES));
        assertTrue(y.getMessage().startsWith("template: not YAML"), y.getMessage());

        InjectionException top = assertThrows(InjectionException.class, () -> InjectionConfig.parse("sidecars: []",
                VALUES));
        assertTrue(top.getMessage().contains("unknown top-level key \"sidecars\""), top.getMessage());
    }

    @Test
    void podNamesReachTheTemplateOnlyWhenTheyAreDnsNames() {
        InjectionConfig cfg = InjectionConfig.parse(TEMPLATE + "annotations:\n"
                + "  example.com/pod: \"{{ pod.name }}\"\n  example.com/ns: \"{{ pod.namespace }}\"\n", VALUES);
        PodInjector injector = new PodInjector(() -> cfg);
        ObjectNode pod = Pods.app();
        JsonNode out = JsonPatch.apply(injector.inject(pod, "shop").patch(), pod);
        assertEquals("hello-client-7d4b9c", out.at("/metadata/annotations").path("example.com/pod").asText());
        assertEquals("shop", out.at("/metadata/annotations").path("example.com/ns").asText());

        ObjectNode hostile = Pods.app();
        ((ObjectNode) hostile.get("metadata")).put("generateName", "x\nprivileged: true-");
        JsonNode h = JsonPatch.apply(injector.inject(hostile, null).patch(), hostile);
        assertTrue(h.at("/metadata/annotations").path("example.com/pod").isMissingNode(), h.toString());
        assertTrue(h.at("/metadata/annotations").path("example.com/ns").isMissingNode(), "offline: no namespace");
    }

    @Test
    void portAndRangeListsAreCheckedAndNormalized() {
        assertEquals("80,443", PodValues.ports(" 80 , 443 ", false, 15, "t"));
        assertEquals("*", PodValues.ports("*", true, 15, "t"));
        assertThrows(InjectionException.class, () -> PodValues.ports("*", false, 15, "t"));
        assertThrows(InjectionException.class, () -> PodValues.ports("0", false, 15, "t"));
        assertThrows(InjectionException.class, () -> PodValues.ports("80;rm -rf /", false, 15, "t"));
        assertEquals("10.0.0.0/8,1.2.3.4", PodValues.cidrs("10.0.0.0/8, 1.2.3.4", false, "t"));
        assertThrows(InjectionException.class, () -> PodValues.cidrs("10.0.0.0/33", false, "t"));
        assertThrows(InjectionException.class, () -> PodValues.cidrs("256.0.0.1", false, "t"));
        assertThrows(InjectionException.class, () -> PodValues.cidrs("fd00::/8", false, "t"));
        assertEquals("WARN", PodValues.logLevel("warning", "t"));
        assertThrows(InjectionException.class, () -> PodValues.logLevel("loud", "t"));
    }
}
