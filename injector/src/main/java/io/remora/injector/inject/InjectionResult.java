package io.remora.injector.inject;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.node.ArrayNode;
import io.remora.injector.Json;
import java.util.List;

/**
 * What the injector decided for one pod: injected (with the patch), skipped (with the reason) or failed (with the
 * error; the caller decides whether that lets the pod through).
 *
 * @param reason   why it was skipped; null unless {@link Outcome#SKIPPED}
 * @param message  one line for logs and admission warnings
 * @param patch    the RFC 6902 patch; empty unless {@link Outcome#INJECTED}
 * @param warnings problems that did not stop the decision (a malformed inject annotation, ...)
 */
public record InjectionResult(Outcome outcome, SkipReason reason, String message, ArrayNode patch,
                              List<String> warnings, String configVersion) {

    public enum Outcome { INJECTED, SKIPPED, FAILED }

    /** Why a pod was left alone; the name (lower case) is the metrics label. */
    public enum SkipReason {
        NOT_A_POD, NOT_CREATE, ALREADY_INJECTED, ISTIO_SIDECAR, HAS_SIDECAR_CONTAINER, HOST_NETWORK,
        IGNORED_NAMESPACE, OPTED_OUT, POLICY_DISABLED
    }

    public InjectionResult {
        requireNonNull(outcome, "outcome");
        requireNonNull(message, "message");
        requireNonNull(patch, "patch");
        warnings = List.copyOf(warnings);
    }

    static InjectionResult injected(ArrayNode patch, String message, List<String> warnings, String version) {
        return new InjectionResult(Outcome.INJECTED, null, message, patch, warnings, version);
    }

    public static InjectionResult skipped(SkipReason reason, String message, List<String> warnings, String version) {
        return new InjectionResult(Outcome.SKIPPED, reason, message, Json.JSON.createArrayNode(), warnings, version);
    }

    static InjectionResult failed(String message, List<String> warnings, String version) {
        return new InjectionResult(Outcome.FAILED, null, message, Json.JSON.createArrayNode(), warnings, version);
    }
}
