package io.remora.core.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelPipeline;
import java.util.Map;

/**
 * Implemented by the engine handler of a downstream pipeline (Bolt/Dubbo: {@link DownstreamConnection}; HTTP/1.1 and
 * HTTP/2 handlers) so the upgrade module can move the connection to a new process between requests, or end it
 * gracefully when it cannot (also the graceful drain). Every method runs on the channel's event loop;
 * {@link #quiescent()} is asked with reading already switched off.
 */
public interface ConnectionHandoff {

    /** True at a request boundary: nothing in flight on this connection, so the socket can move now. */
    boolean quiescent();

    /**
     * Ends the connection without failing a request: RPC closes after the last in-flight response is written; HTTP/1.1
     * answers its current request with {@code Connection: close}; HTTP/2 sends GOAWAY and closes when its streams end.
     */
    void closeGracefully();

    /** False when the connection can never move (HTTP/2): the upgrade closes it gracefully at once, without waiting. */
    default boolean migratable() {
        return true;
    }

    /**
     * Bytes read from the socket and not consumed yet, which must travel with it (a view: the caller copies them, then
     * skips them once the socket moved); null when the pipeline's {@code "decoder"} or {@code "detect"} handler holds
     * them (the RPC pipelines).
     */
    default ByteBuf unread() {
        return null;
    }

    /** The pipeline's handoff handler, or null (e.g. a connection still detecting its protocol). On the loop. */
    static ConnectionHandoff find(ChannelPipeline p) {
        for (Map.Entry<String, ChannelHandler> e : p) {
            if (e.getValue() instanceof ConnectionHandoff h) {
                return h;
            }
        }
        return null;
    }
}
