package io.remora.injector.inject;

/** What happens to a pod that neither opts in nor out ({@code policy} in the values). */
public enum Policy {
    /** Inject unless the pod says {@code sidecar.remora.io/inject: "false"}. */
    ENABLED,
    /** Inject only when the pod says {@code sidecar.remora.io/inject: "true"}. */
    DISABLED;

    static Policy parse(String s) {
        return switch (s) {
            case "enabled" -> ENABLED;
            case "disabled" -> DISABLED;
            default -> throw new InjectionException("policy " + PodValues.quote(s) + ": enabled or disabled");
        };
    }
}
