package io.remora.core.admin;

/**
 * The sidecar's state in Envoy's words (ServerInfo.State: {@code /ready}, {@code /server_info}, stat
 * {@code server.state}) and MOSN's stage numbers ({@code /api/v1/states}).
 */
public enum ServerState {
    /** Serving; {@code /ready} answers 200. */
    LIVE(0, 6, "Running"),
    /** Health check failed by {@code /healthcheck/fail}, draining, or stopped. */
    DRAINING(1, 8, "GracefulStopping"),
    /** Listeners of the first config not yet bound. */
    PRE_INITIALIZING(2, 4, "Starting"),
    /** Listeners bound, a readiness check (e.g. the first xDS config) still pending. */
    INITIALIZING(3, 5, "AfterStart");

    /** Envoy's enum value, as the {@code server.state} stat reports it. */
    public final int envoyValue;
    /** MOSN's stagemanager.State number. */
    public final int mosnStage;
    public final String mosnStageName;

    ServerState(int envoyValue, int mosnStage, String mosnStageName) {
        this.envoyValue = envoyValue;
        this.mosnStage = mosnStage;
        this.mosnStageName = mosnStageName;
    }
}
