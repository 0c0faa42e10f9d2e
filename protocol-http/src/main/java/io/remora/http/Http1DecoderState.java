package io.remora.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.CombinedChannelDuplexHandler;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.http.HttpObjectDecoder;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import org.slf4j.LoggerFactory;

/**
 * What the request decoder inside {@code HttpServerCodec} holds, for connection handoff and drain only (never on the
 * hot path). Netty keeps the decoder, its buffer and its parse state private, hence the reflection; if a Netty version
 * changes them, connections are no longer migrated (closed gracefully instead) and the drain closes idle ones at once.
 */
final class Http1DecoderState {

    private static final MethodHandle INBOUND;
    private static final MethodHandle BUFFER;
    private static final MethodHandle STATE;

    static {
        MethodHandle inbound = null;
        MethodHandle buffer = null;
        MethodHandle state = null;
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            Method m = CombinedChannelDuplexHandler.class.getDeclaredMethod("inboundHandler");
            m.setAccessible(true);
            inbound = l.unreflect(m);
            Method b = ByteToMessageDecoder.class.getDeclaredMethod("internalBuffer");
            b.setAccessible(true);
            buffer = l.unreflect(b);
            Field f = HttpObjectDecoder.class.getDeclaredField("currentState");
            f.setAccessible(true);
            state = l.unreflectGetter(f);
        } catch (ReflectiveOperationException | RuntimeException e) {
            LoggerFactory.getLogger(Http1DecoderState.class).warn("cannot inspect Netty's HTTP/1 decoder ({}): "
                    + "HTTP/1.1 connections will be closed gracefully instead of migrated on upgrade", e.toString());
            inbound = null;
        }
        INBOUND = inbound;
        BUFFER = buffer;
        STATE = state;
    }

    private Http1DecoderState() {
    }

    /** The request decoder of the pipeline's {@code http-codec}, or null. */
    private static HttpObjectDecoder decoder(ChannelPipeline p) {
        if (INBOUND == null || !(p.get("http-codec") instanceof CombinedChannelDuplexHandler<?, ?> codec)) {
            return null;
        }
        try {
            return (HttpObjectDecoder) INBOUND.invoke(codec);
        } catch (Throwable t) {
            return null;
        }
    }

    /** True when the decoder holds no parsed part of a message (at most raw first-line bytes: {@link #buffered}). */
    static boolean atMessageStart(ChannelPipeline p) {
        HttpObjectDecoder d = decoder(p);
        if (d == null) {
            return false;
        }
        try {
            String s = ((Enum<?>) STATE.invoke(d)).name();
            return s.equals("SKIP_CONTROL_CHARS") || s.equals("SKIP_INITIAL_LINE_CHARS") || s.equals("READ_INITIAL");
        } catch (Throwable t) {
            return false;
        }
    }

    /** The bytes the decoder read and has not decoded yet (its cumulation; a view, never null). */
    static ByteBuf buffered(ChannelPipeline p) {
        HttpObjectDecoder d = decoder(p);
        if (d == null) {
            return Unpooled.EMPTY_BUFFER;
        }
        try {
            return (ByteBuf) BUFFER.invoke(d);
        } catch (Throwable t) {
            return Unpooled.EMPTY_BUFFER;
        }
    }

    /** True when nothing of a next request has arrived: closing now cuts nothing. */
    static boolean idle(ChannelPipeline p) {
        return INBOUND == null || (atMessageStart(p) && !buffered(p).isReadable());
    }
}
