package io.remora.core.proxy;

/**
 * Implemented by the engine handler of a downstream pipeline (Bolt/Dubbo: {@link DownstreamConnection}; later HTTP/1.1
 * keep-alive and HTTP/2 handlers) so the upgrade module can move the connection to a new process between requests, or
 * end it gracefully when it cannot. Both methods run on the channel's event loop, with reading already switched off.
 */
public interface ConnectionHandoff {

    /** True at a request boundary: nothing in flight on this connection, so the socket can move now. */
    boolean quiescent();

    /**
     * Ends the connection without failing a request: RPC closes after the last in-flight response is written; HTTP/1.1
     * answers its current request with {@code Connection: close}; HTTP/2 sends GOAWAY and closes when its streams end.
     */
    void closeGracefully();
}
