package io.remora.filters.condition;

import io.remora.core.filter.Direction;
import io.remora.core.filter.RequestContext;

/**
 * The system fields a traffic condition can test. Caller app comes from {@link RequestContext#callerApp()}, which each
 * codec fills from its protocol: Bolt's {@code app} header, Dubbo's {@code remote.application} attachment, HTTP's
 * {@code x-caller-app} header.
 */
public enum Field {
    /** The request's protocol name ({@code bolt}, {@code dubbo}, {@code http}). */
    TRAFFIC_TYPE("traffic_type"),
    CALLER_APP("caller_app"),
    /** The downstream connection's remote IP. */
    CALLER_IP("caller_ip"),
    /**
     * Server side: this sidecar's own app ({@code node.app}). Client side: the target app the request names
     * ({@link io.remora.core.protocol.RequestHeaders#targetApp()}, Bolt's {@code sofa_head_target_app}), else absent.
     */
    PROVIDER_APP("provider_app"),
    METHOD("method"),
    SERVICE("service");

    private final String jsonName;

    Field(String jsonName) {
        this.jsonName = jsonName;
    }

    public String jsonName() {
        return jsonName;
    }

    /** The field's value for this request, or null when the request does not carry it. */
    String read(RequestContext ctx) {
        return switch (this) {
            case TRAFFIC_TYPE -> ctx.request().protocol();
            case CALLER_APP -> ctx.callerApp();
            case CALLER_IP -> ctx.callerIp();
            case PROVIDER_APP -> ctx.direction() == Direction.INBOUND ? ctx.localApp() : ctx.request().targetApp();
            case METHOD -> ctx.request().method();
            case SERVICE -> ctx.request().service();
        };
    }

    public static Field byJsonName(String name) {
        for (Field f : values()) {
            if (f.jsonName.equals(name)) {
                return f;
            }
        }
        return null;
    }
}
