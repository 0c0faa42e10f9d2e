package io.remora.xds;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import io.remora.core.protocol.Detection;
import io.remora.core.protocol.Protocol;
import io.remora.core.protocol.ProtocolOptions;
import io.remora.core.protocol.ProxyError;
import io.remora.core.protocol.RpcCodec;
import io.remora.core.protocol.RpcFrame;

/**
 * A protocol named {@code xdstest} so listeners learned over xDS compile and bind before a real codec is on this
 * module's classpath. It never decodes anything: connections are closed on first bytes.
 */
public final class StubProtocol implements Protocol {

    @Override
    public String name() {
        return "xdstest";
    }

    @Override
    public Detection detect(ByteBuf firstBytes) {
        return Detection.NO_MATCH;
    }

    @Override
    public RpcCodec codec(ProtocolOptions options) {
        Protocol self = this;
        return new RpcCodec() {
            @Override
            public Protocol protocol() {
                return self;
            }

            @Override
            public ChannelHandler newDecoder() {
                return new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        ReferenceCountUtil.release(msg);
                        ctx.close();
                    }
                };
            }

            @Override
            public long maxRequestId() {
                return Integer.MAX_VALUE;
            }

            @Override
            public ByteBuf encodeRequest(RpcFrame request, long upstreamId, int timeoutMillis) {
                throw new UnsupportedOperationException();
            }

            @Override
            public ByteBuf encodeResponse(RpcFrame response, long downstreamId) {
                throw new UnsupportedOperationException();
            }

            @Override
            public ByteBuf heartbeatAck(RpcFrame heartbeat, ByteBufAllocator alloc) {
                throw new UnsupportedOperationException();
            }

            @Override
            public ByteBuf heartbeat(long id, ByteBufAllocator alloc) {
                throw new UnsupportedOperationException();
            }

            @Override
            public ByteBuf errorResponse(RpcFrame request, ProxyError error, String message, ByteBufAllocator alloc) {
                throw new UnsupportedOperationException();
            }
        };
    }
}
