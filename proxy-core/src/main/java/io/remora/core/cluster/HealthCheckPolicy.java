package io.remora.core.cluster;

/**
 * Active health checking of a cluster's hosts, off the request path. {@code type}: {@code tcp} (a connect succeeds) or
 * {@code heartbeat} (the protocol's heartbeat, {@code RpcCodec.heartbeat}, is acknowledged within the timeout).
 */
public record HealthCheckPolicy(String type, long intervalMillis, long timeoutMillis, int healthyThreshold,
                                int unhealthyThreshold) {
}
