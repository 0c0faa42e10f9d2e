package io.remora.injector.webhook;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.remora.injector.Json;
import io.remora.injector.inject.InjectionResult;
import io.remora.injector.inject.InjectionResult.Outcome;
import io.remora.injector.inject.InjectionResult.SkipReason;
import io.remora.injector.inject.PodInjector;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One {@code admission.k8s.io/v1} AdmissionReview in, its answer out. A Pod CREATE gets the injector's patch
 * ({@code patchType: JSONPatch}, base64); anything else is allowed unchanged. An injection error allows the pod
 * without a sidecar and says why in a warning (fail-open), or denies it (fail-closed). A body that is not an
 * AdmissionReview gets HTTP 400, so the API server applies the webhook's failurePolicy. Never throws.
 */
final class AdmissionHandler {

    private static final Logger log = LoggerFactory.getLogger(AdmissionHandler.class);
    static final String API_VERSION = "admission.k8s.io/v1";
    /** The API server shows warnings to the client (kubectl) and may truncate them beyond 256 characters. */
    private static final int MAX_WARNING = 256;

    /** The HTTP status and JSON body to answer with. */
    record Reply(int status, ObjectNode body) {}

    private final PodInjector injector;
    private final boolean failClosed;
    private final WebhookMetrics metrics;

    AdmissionHandler(PodInjector injector, boolean failClosed, WebhookMetrics metrics) {
        this.injector = requireNonNull(injector, "injector");
        this.failClosed = failClosed;
        this.metrics = requireNonNull(metrics, "metrics");
    }

    Reply handle(byte[] body) {
        long start = System.nanoTime();
        JsonNode review;
        try {
            review = Json.JSON.readTree(body);
        } catch (JsonProcessingException e) {
            return malformed(null, "not JSON: " + e.getOriginalMessage(), start);
        } catch (java.io.IOException e) {
            return malformed(null, "unreadable body: " + e.getMessage(), start);
        }
        if (review == null || !review.isObject()) return malformed(null, "not a JSON object", start);
        JsonNode request = review.path("request");
        String uid = request.path("uid").isTextual() ? request.path("uid").textValue() : null;
        if (!API_VERSION.equals(review.path("apiVersion").asText())
                || !"AdmissionReview".equals(review.path("kind").asText())) {
            return malformed(uid, "expected apiVersion " + API_VERSION + " kind AdmissionReview, got "
                    + review.path("apiVersion").asText("(none)") + " " + review.path("kind").asText("(none)"), start);
        }
        if (!request.isObject() || uid == null || uid.isEmpty()) return malformed(uid, "no request.uid", start);

        try {
            return answer(uid, request, start);
        } catch (RuntimeException e) {
            // A bug of ours, not the pod's: the same policy as an injection error, logged with the stack.
            log.error("review {} failed", uid, e);
            return failed(uid, describe(request), "internal error: " + e, List.of(), 500, start);
        }
    }

    private Reply answer(String uid, JsonNode request, long start) {
        String kind = request.path("kind").path("kind").asText();
        String group = request.path("kind").path("group").asText("");
        String resource = request.path("resource").path("resource").asText("pods");
        String sub = request.path("subResource").asText("");
        if (!kind.equals("Pod") || !group.isEmpty() || !resource.equals("pods") || !sub.isEmpty()) {
            return skipped(uid, SkipReason.NOT_A_POD, start);
        }
        if (!"CREATE".equals(request.path("operation").asText())) return skipped(uid, SkipReason.NOT_CREATE, start);
        JsonNode pod = request.get("object");
        if (pod == null || !pod.isObject()) {
            return failed(uid, describe(request), "the request has no pod object", List.of(), 400, start);
        }
        String namespace = request.path("namespace").asText(pod.path("metadata").path("namespace").asText(""));
        InjectionResult r = injector.inject(pod, namespace.isEmpty() ? null : namespace);
        String who = describe(request);
        switch (r.outcome()) {
            case INJECTED -> {
                log.info("{}: {}{}", who, r.message(), r.warnings().isEmpty() ? "" : " warnings " + r.warnings());
                ObjectNode resp = response(uid, true, r.warnings());
                resp.put("patchType", "JSONPatch");
                byte[] patch = r.patch().toString().getBytes(StandardCharsets.UTF_8);
                resp.put("patch", Base64.getEncoder().encodeToString(patch));
                metrics.review(WebhookMetrics.Result.INJECTED, System.nanoTime() - start);
                return new Reply(200, review(resp));
            }
            case SKIPPED -> {
                log.debug("{}: not injected: {}", who, r.message());
                metrics.skipped(r.reason());
                metrics.review(WebhookMetrics.Result.SKIPPED, System.nanoTime() - start);
                return new Reply(200, review(response(uid, true, r.warnings())));
            }
            default -> {
                assert r.outcome() == Outcome.FAILED;
                return failed(uid, who, r.message(), r.warnings(), 400, start);
            }
        }
    }

    private Reply skipped(String uid, SkipReason reason, long start) {
        metrics.skipped(reason);
        metrics.review(WebhookMetrics.Result.SKIPPED, System.nanoTime() - start);
        return new Reply(200, review(response(uid, true, List.of())));
    }

    private Reply failed(String uid, String who, String message, List<String> warnings, int code, long start) {
        String text = "remora-injector: sidecar not injected: " + message;
        List<String> all = new ArrayList<>(warnings);
        ObjectNode resp;
        if (failClosed) {
            log.warn("{}: denied: {}", who, message);
            resp = response(uid, false, all);
            ObjectNode status = resp.putObject("status");
            status.put("code", code);
            status.put("message", text);
            metrics.review(WebhookMetrics.Result.FAILED_DENIED, System.nanoTime() - start);
        } else {
            log.warn("{}: allowed without a sidecar: {}", who, message);
            all.add(0, text);
            resp = response(uid, true, all);
            metrics.review(WebhookMetrics.Result.FAILED_ALLOWED, System.nanoTime() - start);
        }
        return new Reply(200, review(resp));
    }

    private Reply malformed(String uid, String message, long start) {
        log.warn("malformed AdmissionReview: {}", message);
        metrics.review(WebhookMetrics.Result.MALFORMED, System.nanoTime() - start);
        ObjectNode resp = response(uid == null ? "" : uid, false, List.of());
        ObjectNode status = resp.putObject("status");
        status.put("code", 400);
        status.put("message", "remora-injector: malformed AdmissionReview: " + message);
        return new Reply(400, review(resp));
    }

    private static ObjectNode response(String uid, boolean allowed, List<String> warnings) {
        ObjectNode resp = Json.JSON.createObjectNode();
        resp.put("uid", uid);
        resp.put("allowed", allowed);
        if (!warnings.isEmpty()) {
            ArrayNode w = resp.putArray("warnings");
            for (String s : warnings) w.add(s.length() <= MAX_WARNING ? s : s.substring(0, MAX_WARNING - 3) + "...");
        }
        return resp;
    }

    private static ObjectNode review(ObjectNode response) {
        ObjectNode r = Json.JSON.createObjectNode();
        r.put("apiVersion", API_VERSION);
        r.put("kind", "AdmissionReview");
        r.set("response", response);
        return r;
    }

    /** namespace/name for logs; a pod being created by a controller has only generateName. */
    private static String describe(JsonNode request) {
        JsonNode meta = request.path("object").path("metadata");
        String name = request.path("name").asText("");
        if (name.isEmpty()) name = meta.path("name").asText("");
        if (name.isEmpty()) name = meta.path("generateName").asText("") + "*";
        String ns = request.path("namespace").asText(meta.path("namespace").asText(""));
        // not validated yet (validation runs after mutating admission): no control characters into the log
        return ((ns.isEmpty() ? "" : ns + "/") + name).replaceAll("\\p{Cntrl}", "?");
    }
}
