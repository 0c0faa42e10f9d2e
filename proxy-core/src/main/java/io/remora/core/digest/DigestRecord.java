package io.remora.core.digest;

/**
 * One proxied call, captured on the event loop with references to strings that already exist; formatted into a line
 * later on the writer thread.
 *
 * @param resultCode 00 ok, 01 business error, 02 RPC error, 03 timeout, 04 routing failure
 * @param proxyMicros time spent inside the sidecar (total minus the upstream's own time)
 */
public record DigestRecord(
        long timeMillis,
        boolean inbound,
        String app,
        String traceId,
        String rpcId,
        String service,
        String method,
        String protocol,
        String callType,
        String targetAddress,
        String targetApp,
        String resultCode,
        int requestBytes,
        int responseBytes,
        long totalMicros,
        long proxyMicros,
        String callerIp) {
}
