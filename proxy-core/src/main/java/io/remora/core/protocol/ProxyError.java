package io.remora.core.protocol;

/**
 * Every reason the sidecar itself answers a request instead of the provider. Each codec maps these to its protocol's
 * native error (protocols.md §1.7 for Bolt, §2.8 for Dubbo) so the caller's own framework shows a clear error.
 */
public enum ProxyError {
    NO_ROUTE(ResponseClass.ROUTING_FAILURE),
    NO_HEALTHY_UPSTREAM(ResponseClass.ROUTING_FAILURE),
    UPSTREAM_CONNECT_FAILURE(ResponseClass.RPC_ERROR),
    UPSTREAM_RESET(ResponseClass.RPC_ERROR),
    TIMEOUT(ResponseClass.TIMEOUT),
    /** Too many pending requests on an upstream, or a bounded queue is full. */
    OVERFLOW(ResponseClass.RPC_ERROR),
    RATE_LIMITED(ResponseClass.RPC_ERROR),
    CIRCUIT_OPEN(ResponseClass.RPC_ERROR),
    UNAUTHORIZED(ResponseClass.RPC_ERROR),
    FAULT_INJECTED(ResponseClass.RPC_ERROR),
    /** The request was framed correctly but its content cannot be processed. */
    BAD_REQUEST(ResponseClass.RPC_ERROR),
    /** The sidecar is shutting down or not ready. */
    UNAVAILABLE(ResponseClass.RPC_ERROR);

    private final ResponseClass responseClass;

    ProxyError(ResponseClass responseClass) {
        this.responseClass = responseClass;
    }

    public ResponseClass responseClass() {
        return responseClass;
    }
}
