package io.remora.injector.webhook;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.flipkart.zjsonpatch.JsonPatch;
import io.remora.injector.Json;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.UUID;

/** AdmissionReviews as the API server sends them, over real HTTP, and their answers decoded. */
final class Reviews {

    record Answer(int status, JsonNode body) {
        JsonNode response() {
            return body.path("response");
        }

        boolean allowed() {
            return response().path("allowed").asBoolean(false);
        }

        boolean hasPatch() {
            return response().has("patch");
        }

        /** The decoded RFC 6902 patch. */
        JsonNode patch() throws IOException {
            assertEquals("JSONPatch", response().path("patchType").asText(), "patchType");
            return Json.JSON.readTree(Base64.getDecoder().decode(response().path("patch").asText()));
        }

        /** {@code pod} with the patch applied by zjsonpatch, an independent RFC 6902 implementation. */
        JsonNode applyTo(JsonNode pod) throws IOException {
            assertTrue(allowed(), () -> "not allowed: " + body);
            assertTrue(hasPatch(), () -> "no patch: " + body);
            return JsonPatch.apply(patch(), pod);
        }

        void assertAllowedUnchanged() {
            assertEquals(200, status, () -> "status: " + body);
            assertTrue(allowed(), () -> "not allowed: " + body);
            assertFalse(hasPatch(), () -> "unexpected patch: " + body);
        }
    }

    private final HttpClient client;
    private final URI inject;

    Reviews(HttpClient client, URI base) {
        this.client = client;
        this.inject = base.resolve("/inject?timeout=10s");
    }

    static ObjectNode podCreate(JsonNode pod, String namespace) {
        return review("CREATE", "", "v1", "Pod", "pods", pod, namespace);
    }

    static ObjectNode review(String operation, String group, String version, String kind, String resource,
                             JsonNode object, String namespace) {
        ObjectNode r = Json.JSON.createObjectNode();
        r.put("apiVersion", "admission.k8s.io/v1");
        r.put("kind", "AdmissionReview");
        ObjectNode req = r.putObject("request");
        req.put("uid", UUID.randomUUID().toString());
        req.putObject("kind").put("group", group).put("version", version).put("kind", kind);
        req.putObject("resource").put("group", group).put("version", version).put("resource", resource);
        req.putObject("requestKind").put("group", group).put("version", version).put("kind", kind);
        req.put("namespace", namespace);
        req.put("operation", operation);
        req.putObject("userInfo").put("username", "system:serviceaccount:kube-system:replicaset-controller");
        req.set("object", object);
        req.putNull("oldObject");
        req.put("dryRun", false);
        return r;
    }

    Answer send(ObjectNode review) throws IOException, InterruptedException {
        Answer a = sendRaw(Json.JSON.writeValueAsBytes(review));
        assertEquals(review.path("request").path("uid").asText(), a.response().path("uid").asText(), "uid echoed");
        assertEquals("admission.k8s.io/v1", a.body.path("apiVersion").asText());
        assertEquals("AdmissionReview", a.body.path("kind").asText());
        return a;
    }

    Answer sendRaw(byte[] body) throws IOException, InterruptedException {
        HttpResponse<byte[]> resp = client.send(HttpRequest.newBuilder(inject)
                .timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofByteArray());
        return new Answer(resp.statusCode(), Json.JSON.readTree(new String(resp.body(), StandardCharsets.UTF_8)));
    }
}
