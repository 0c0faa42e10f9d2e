package io.remora.injector.inject;

/**
 * The pod annotations and labels the injector reads and writes. Each Remora key has an Istio alias where Istio has
 * the same knob, so pods written for Istio's injector keep their meaning; the Remora key wins when both are set.
 */
public final class Annotations {

    /** Written on every injected pod: what was injected (JSON), like {@code sidecar.istio.io/status}. */
    public static final String STATUS = "remora.io/status";
    /** Istio's status annotation: a pod carrying it already has an Istio sidecar. */
    public static final String ISTIO_STATUS = "sidecar.istio.io/status";

    /** "true" / "false" as an annotation or a label (the webhook's objectSelector sees labels only). */
    public static final String INJECT = "sidecar.remora.io/inject";
    public static final String ISTIO_INJECT = "sidecar.istio.io/inject";

    public static final String PROXY_IMAGE = "sidecar.remora.io/proxyImage";
    public static final String PROXY_CPU = "sidecar.remora.io/proxyCPU";
    public static final String PROXY_MEMORY = "sidecar.remora.io/proxyMemory";
    public static final String PROXY_CPU_LIMIT = "sidecar.remora.io/proxyCPULimit";
    public static final String PROXY_MEMORY_LIMIT = "sidecar.remora.io/proxyMemoryLimit";
    public static final String CONFIG_MAP = "sidecar.remora.io/configMap";
    public static final String LOG_LEVEL = "sidecar.remora.io/logLevel";
    public static final String INTERCEPTION_MODE = "sidecar.remora.io/interceptionMode";

    public static final String INCLUDE_INBOUND_PORTS = "traffic.remora.io/includeInboundPorts";
    public static final String EXCLUDE_INBOUND_PORTS = "traffic.remora.io/excludeInboundPorts";
    public static final String INCLUDE_OUTBOUND_PORTS = "traffic.remora.io/includeOutboundPorts";
    public static final String EXCLUDE_OUTBOUND_PORTS = "traffic.remora.io/excludeOutboundPorts";
    public static final String INCLUDE_OUTBOUND_IP_RANGES = "traffic.remora.io/includeOutboundIPRanges";
    public static final String EXCLUDE_OUTBOUND_IP_RANGES = "traffic.remora.io/excludeOutboundIPRanges";

    /** The Istio key with the same meaning as a Remora key, or null. */
    static String istioAlias(String remoraKey) {
        return switch (remoraKey) {
            case INJECT -> ISTIO_INJECT;
            case PROXY_IMAGE -> "sidecar.istio.io/proxyImage";
            case PROXY_CPU -> "sidecar.istio.io/proxyCPU";
            case PROXY_MEMORY -> "sidecar.istio.io/proxyMemory";
            case PROXY_CPU_LIMIT -> "sidecar.istio.io/proxyCPULimit";
            case PROXY_MEMORY_LIMIT -> "sidecar.istio.io/proxyMemoryLimit";
            case LOG_LEVEL -> "sidecar.istio.io/logLevel";
            case INTERCEPTION_MODE -> "sidecar.istio.io/interceptionMode";
            case INCLUDE_INBOUND_PORTS -> "traffic.sidecar.istio.io/includeInboundPorts";
            case EXCLUDE_INBOUND_PORTS -> "traffic.sidecar.istio.io/excludeInboundPorts";
            case INCLUDE_OUTBOUND_PORTS -> "traffic.sidecar.istio.io/includeOutboundPorts";
            case EXCLUDE_OUTBOUND_PORTS -> "traffic.sidecar.istio.io/excludeOutboundPorts";
            case INCLUDE_OUTBOUND_IP_RANGES -> "traffic.sidecar.istio.io/includeOutboundIPRanges";
            case EXCLUDE_OUTBOUND_IP_RANGES -> "traffic.sidecar.istio.io/excludeOutboundIPRanges";
            default -> null;
        };
    }

    private Annotations() {}
}
