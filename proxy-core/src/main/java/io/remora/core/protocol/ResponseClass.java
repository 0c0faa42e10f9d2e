package io.remora.core.protocol;

/**
 * How a response ended, in the terms of the digest log's result codes and the circuit breaker's error count.
 */
public enum ResponseClass {
    /** Result code 00. */
    OK("00"),
    /** Result code 01: the provider's code answered with an error (e.g. an exception thrown by the service). */
    BUSINESS_ERROR("01"),
    /** Result code 02: the RPC framework failed (error status, proxy error, reset). */
    RPC_ERROR("02"),
    /** Result code 03. */
    TIMEOUT("03"),
    /** Result code 04: no route / no provider. */
    ROUTING_FAILURE("04");

    private final String digestCode;

    ResponseClass(String digestCode) {
        this.digestCode = digestCode;
    }

    public String digestCode() {
        return digestCode;
    }

    public boolean isError() {
        return this != OK;
    }
}
