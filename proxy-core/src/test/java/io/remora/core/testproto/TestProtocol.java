package io.remora.core.testproto;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.TooLongFrameException;
import io.remora.core.protocol.Detection;
import io.remora.core.protocol.Protocol;
import io.remora.core.protocol.ProtocolOptions;
import io.remora.core.protocol.ProxyError;
import io.remora.core.protocol.RpcCodec;
import io.remora.core.protocol.RpcFrame;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A tiny multiplexed RPC protocol for engine tests only (never shipped, excluded from the test-jar).
 * Frame: magic 0x7E, type(1), id(8), timeout(4), status(1), bodyLen(4), body = UTF-8 "service|method|k=v&k=v|payload".
 * Types: 0 request, 1 response, 2 oneway, 3 heartbeat, 4 heartbeat ack, 5 drain.
 * Error replies: status = 100 + ProxyError.ordinal(), payload = the message.
 */
public final class TestProtocol implements Protocol {

    public static final int HEADER = 19;
    public static final byte MAGIC = 0x7E;

    @Override
    public String name() {
        return "testrpc";
    }

    @Override
    public Detection detect(ByteBuf in) {
        if (!in.isReadable()) {
            return Detection.NEED_MORE_DATA;
        }
        return in.getByte(in.readerIndex()) == MAGIC ? Detection.MATCH : Detection.NO_MATCH;
    }

    @Override
    public RpcCodec codec(ProtocolOptions options) {
        return new Codec(this, options.maxFrameBytes());
    }

    public static ByteBuf frame(ByteBufAllocator alloc, int type, long id, int timeout, int status, String body) {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ByteBuf buf = alloc.buffer(HEADER + b.length);
        buf.writeByte(MAGIC).writeByte(type).writeLong(id).writeInt(timeout).writeByte(status).writeInt(b.length)
                .writeBytes(b);
        return buf;
    }

    static final class Codec implements RpcCodec {
        private final Protocol protocol;
        private final int maxFrame;

        Codec(Protocol protocol, int maxFrame) {
            this.protocol = protocol;
            this.maxFrame = maxFrame;
        }

        @Override
        public Protocol protocol() {
            return protocol;
        }

        @Override
        public ChannelHandler newDecoder() {
            return new Decoder(maxFrame);
        }

        @Override
        public long maxRequestId() {
            return Long.MAX_VALUE;
        }

        @Override
        public ByteBuf encodeRequest(RpcFrame request, long upstreamId, int timeoutMillis) {
            ByteBuf c = request.content().retain();
            request.release();
            c.setLong(c.readerIndex() + 2, upstreamId);
            if (timeoutMillis >= 0) {
                c.setInt(c.readerIndex() + 10, timeoutMillis);
            }
            return c;
        }

        @Override
        public ByteBuf encodeResponse(RpcFrame response, long downstreamId) {
            ByteBuf c = response.content().retain();
            response.release();
            c.setLong(c.readerIndex() + 2, downstreamId);
            return c;
        }

        @Override
        public ByteBuf heartbeatAck(RpcFrame heartbeat, ByteBufAllocator alloc) {
            return frame(alloc, 4, heartbeat.requestId(), -1, 0, "");
        }

        @Override
        public ByteBuf heartbeat(long id, ByteBufAllocator alloc) {
            return frame(alloc, 3, id, -1, 0, "");
        }

        @Override
        public ByteBuf errorResponse(RpcFrame request, ProxyError error, String message, ByteBufAllocator alloc) {
            return frame(alloc, 1, request.requestId(), -1, 100 + error.ordinal(), "|||" + message);
        }

        @Override
        public ByteBuf errorResponse(RpcFrame request, ProxyError error, String message, int nativeStatus,
                                     ByteBufAllocator alloc) {
            return frame(alloc, 1, request.requestId(), -1, nativeStatus, "|||" + message);
        }
    }

    static final class Decoder extends ByteToMessageDecoder {
        private final int maxFrame;

        Decoder(int maxFrame) {
            this.maxFrame = maxFrame;
        }

        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
            if (in.readableBytes() < HEADER) {
                return;
            }
            int r = in.readerIndex();
            if (in.getByte(r) != MAGIC) {
                throw new CorruptedFrameException("bad magic " + in.getByte(r));
            }
            long bodyLen = in.getUnsignedInt(r + 15);
            if (bodyLen + HEADER > maxFrame) {
                throw new TooLongFrameException("frame of " + (bodyLen + HEADER) + " bytes exceeds " + maxFrame);
            }
            if (in.readableBytes() < HEADER + bodyLen) {
                return;
            }
            out.add(new TestFrame(in.readRetainedSlice((int) (HEADER + bodyLen))));
        }
    }
}
