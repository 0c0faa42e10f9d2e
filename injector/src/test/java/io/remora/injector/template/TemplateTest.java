package io.remora.injector.template;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.remora.injector.Json;
import org.junit.jupiter.api.Test;

class TemplateTest {

    private static final String CONTEXT = """
            image: remora:1
            port: 34901
            enabled: true
            disabled: false
            empty: ""
            list: [a, b]
            resources: {requests: {cpu: 500m}}
            hostile: "x\\nprivileged: true"
            nested: {deeper: {value: 7}}
            unset: null
            """;

    private static JsonNode yaml(String s) throws Exception {
        return Json.YAML.readTree(s);
    }

    private static JsonNode render(String template) throws Exception {
        return Template.compile(yaml(template)).render(yaml(CONTEXT));
    }

    @Test
    void wholePlaceholderKeepsTheValuesType() throws Exception {
        JsonNode out = render("""
                port: "{{ port }}"
                res: "{{ resources }}"
                list: "{{ list }}"
                flag: "{{ enabled }}"
                deep: "{{ nested.deeper.value }}"
                """);
        assertTrue(out.get("port").isInt());
        assertEquals("500m", out.at("/res/requests/cpu").asText());
        assertTrue(out.get("list").isArray());
        assertTrue(out.get("flag").isBoolean());
        assertEquals(7, out.get("deep").asInt());
    }

    @Test
    void nullWholeValueRemovesTheFieldOrElement() throws Exception {
        JsonNode out = render("""
                keep: 1
                gone: "{{ unset }}"
                goneToo: "{{ unset.below }}"
                items: ["{{ image }}", "{{ unset }}", x]
                """);
        assertEquals(Json.JSON.readTree("{\"keep\":1,\"items\":[\"remora:1\",\"x\"]}"), out);
    }

    @Test
    void unknownValueIsAnErrorNotAnEmptyField() throws Exception {
        for (String t : new String[] {"a: \"{{ imgae }}\"", "a: {$if: enabeld, b: 1}", "a: \"{{ image.tag }}\"",
                "a: \"x{{ nested.deeper.valeu }}\""}) {
            TemplateException e = assertThrows(TemplateException.class, () -> render(t), t);
            assertTrue(e.getMessage().contains("unknown value"), e.getMessage());
        }
    }

    @Test
    void placeholderInsideTextInsertsText() throws Exception {
        JsonNode out = render("""
                a: "image={{ image }} port={{port}}"
                b: "{{ port | string }}"
                c: "{{ list | json }}"
                d: "{{ image | upper }}"
                """);
        assertEquals("image=remora:1 port=34901", out.get("a").asText());
        assertTrue(out.get("b").isTextual());
        assertEquals("34901", out.get("b").asText());
        assertEquals("[\"a\",\"b\"]", out.get("c").asText());
        assertEquals("REMORA:1", out.get("d").asText());
    }

    @Test
    void valuesNeverChangeTheStructure() throws Exception {
        JsonNode out = render("""
                cmd: "{{ hostile }}"
                text: "echo {{ hostile }}"
                """);
        assertEquals(2, out.size());
        assertEquals("x\nprivileged: true", out.get("cmd").asText());
        assertEquals("echo x\nprivileged: true", out.get("text").asText());
    }

    @Test
    void conditionKeepsOrDropsAMapAndValueReplacesIt() throws Exception {
        JsonNode out = render("""
                list:
                  - {$if: enabled, name: shown}
                  - {$if: disabled, name: never}
                  - {$if: "!disabled", name: negated}
                  - {$if: empty, name: empty-string-is-unset}
                caps:
                  $if: enabled
                  $value: [NET_ADMIN]
                noCaps:
                  $if: disabled
                  $value: [NET_ADMIN]
                """);
        assertEquals(Json.JSON.readTree(
                "{\"list\":[{\"name\":\"shown\"},{\"name\":\"negated\"}],\"caps\":[\"NET_ADMIN\"]}"), out);
    }

    @Test
    void textPlaceholderWithNullValueIsAnError() throws Exception {
        Template t = Template.compile(yaml("spec: {args: [\"--x={{ unset }}\"]}"));
        TemplateException e = assertThrows(TemplateException.class, () -> t.render(yaml(CONTEXT)));
        assertTrue(e.getMessage().startsWith("spec.args[0]: no value for {{ unset }}"), e.getMessage());
        TemplateException map = assertThrows(TemplateException.class, () -> render("a: \"x {{ resources }}\""));
        assertTrue(map.getMessage().contains("use | json"), map.getMessage());
    }

    @Test
    void rejectsCodeUnknownFiltersAndDirectivesAtCompileTime() throws Exception {
        for (String bad : new String[] {
                "a: \"{{ exec('rm -rf /') }}\"",
                "a: \"{{ image | sh }}\"",
                "a: \"{{ }}\"",
                "a: \"{{ image \"",
                "a: \"image }}\"",
                "a: {$for: list}",
                "a: {$value: 1}",
                "a: {$if: enabled, $value: 1, other: 2}",
                "a: {$if: [x]}"}) {
            assertThrows(TemplateException.class, () -> Template.compile(yaml(bad)), bad);
        }
    }
}
