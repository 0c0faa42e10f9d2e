package io.remora.core.protocol;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;

/**
 * Encoding and decoding of one multiplexed RPC protocol. One instance per listener or cluster (it holds only
 * options); {@link #newDecoder()} gives a fresh per-connection decoder.
 *
 * <p>Encode methods that take a frame take ownership of it: they patch the frame's bytes in place where they can
 * (zero copy) and return a buffer to write, releasing whatever they do not return.
 */
public interface RpcCodec {

    /** The protocol this codec speaks. */
    Protocol protocol();

    /**
     * A new decoder for one connection (downstream or upstream). It emits {@link RpcFrame}s, checks every declared
     * length against the maximum before allocating, and throws {@link io.netty.handler.codec.DecoderException}
     * (or a subclass such as {@link io.netty.handler.codec.TooLongFrameException}) on a malformed stream.
     */
    ChannelHandler newDecoder();

    /** The largest request id this protocol carries (Bolt: 0xFFFFFFFFL, Dubbo: Long.MAX_VALUE). */
    long maxRequestId();

    /**
     * Prepares a request for the upstream: writes {@code upstreamId} and, if the protocol carries one, the
     * remaining timeout {@code timeoutMillis} (-1 to leave it alone). Takes ownership of {@code request}.
     */
    ByteBuf encodeRequest(RpcFrame request, long upstreamId, int timeoutMillis);

    /** Prepares a response for the downstream: restores the caller's id. Takes ownership of {@code response}. */
    ByteBuf encodeResponse(RpcFrame response, long downstreamId);

    /** The local answer to a downstream heartbeat (same id and protocol version). Does not take ownership. */
    ByteBuf heartbeatAck(RpcFrame heartbeat, ByteBufAllocator alloc);

    /** A heartbeat probe for an idle upstream connection, or null if the protocol has none. */
    ByteBuf heartbeat(long id, ByteBufAllocator alloc);

    /**
     * The protocol-native error reply for {@code request} (same id and version), carrying {@code message} where the
     * protocol can show text to the caller. Does not take ownership of the request.
     */
    ByteBuf errorResponse(RpcFrame request, ProxyError error, String message, ByteBufAllocator alloc);

    /**
     * Like {@link #errorResponse(RpcFrame, ProxyError, String, ByteBufAllocator)} but with an explicit
     * protocol status code (fault injection's configured abort status). Codecs that cannot honour it fall back.
     */
    default ByteBuf errorResponse(RpcFrame request, ProxyError error, String message, int nativeStatus,
                                  ByteBufAllocator alloc) {
        return errorResponse(request, error, message, alloc);
    }
}
