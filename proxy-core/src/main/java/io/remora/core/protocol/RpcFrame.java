package io.remora.core.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.util.ReferenceCounted;

/**
 * One decoded frame of a multiplexed request/response protocol. It owns a retained slice of the bytes it was decoded
 * from ({@link #content()}); whoever holds the frame releases it exactly once (or hands it to a codec's encode method,
 * which takes ownership). Frames are only touched on their connection's event loop.
 */
public interface RpcFrame extends RequestHeaders, ReferenceCounted {

    FrameKind kind();

    /** The request id as sent on the wire (Bolt: unsigned int32, Dubbo: int64). */
    long requestId();

    /** The caller's own timeout in ms carried by the frame (Bolt's timeout field), or -1 when it carries none. */
    int timeoutMillis();

    /** For responses: how it ended. Requests answer {@link ResponseClass#OK}. */
    ResponseClass responseClass();

    /** For responses: the protocol's status code as a number (for logs and metrics). */
    int status();

    /** The whole frame, exactly as received (header and body). The frame keeps ownership. */
    ByteBuf content();

    /**
     * The frame object must not be reused for another frame after its last release: something (a filter that kept
     * the request context) may still look at it. Frames that pool their objects then leave this one to the GC.
     */
    default void keepObject() {
    }

    /** Size of the frame in bytes. */
    default int size() {
        return content().readableBytes();
    }
}
