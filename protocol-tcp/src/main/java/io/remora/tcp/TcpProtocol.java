package io.remora.tcp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandler;
import io.remora.core.protocol.Detection;
import io.remora.core.protocol.DownstreamInstaller;
import io.remora.core.protocol.Protocol;
import io.remora.core.protocol.ProtocolOptions;
import io.remora.core.protocol.ProxyError;
import io.remora.core.protocol.RpcCodec;
import io.remora.core.protocol.RpcFrame;

/**
 * {@code tcp}: opaque TCP proxying, Envoy's {@code tcp_proxy} (what Istio sends for every non-HTTP port, Bolt and
 * Dubbo included). Each downstream connection gets one upstream connection to a host of the cluster its listener's
 * (or filter chain's) routes pick by destination; bytes are piped both ways unparsed. Never auto-detected: bytes that
 * look like nothing are not a protocol, so {@code tcp} is chosen by configuration only.
 */
public final class TcpProtocol implements Protocol {

    @Override
    public String name() {
        return "tcp";
    }

    @Override
    public Detection detect(ByteBuf firstBytes) {
        return Detection.NO_MATCH;
    }

    @Override
    public RpcCodec codec(ProtocolOptions options) {
        return new ListenerCodec(this);
    }

    @Override
    public DownstreamInstaller downstreamInstaller() {
        return (pipeline, listener, codec) -> pipeline.addLast("tcp-proxy", new TcpProxy(listener));
    }

    /** Rides the listener spec's codec list; a TCP stream has no frames, so the RPC methods are never called. */
    static final class ListenerCodec implements RpcCodec {
        private final TcpProtocol protocol;

        ListenerCodec(TcpProtocol protocol) {
            this.protocol = protocol;
        }

        @Override public Protocol protocol() { return protocol; }
        @Override public ChannelHandler newDecoder() { throw notRpc(); }
        @Override public long maxRequestId() { throw notRpc(); }
        @Override public ByteBuf encodeRequest(RpcFrame request, long upstreamId, int timeoutMillis) { throw notRpc(); }
        @Override public ByteBuf encodeResponse(RpcFrame response, long downstreamId) { throw notRpc(); }
        @Override public ByteBuf heartbeatAck(RpcFrame heartbeat, ByteBufAllocator alloc) { throw notRpc(); }
        @Override public ByteBuf heartbeat(long id, ByteBufAllocator alloc) { return null; }
        @Override public ByteBuf errorResponse(RpcFrame r, ProxyError e, String m, ByteBufAllocator a) { throw notRpc(); }

        private static UnsupportedOperationException notRpc() {
            return new UnsupportedOperationException("protocol tcp pipes bytes; it has no frames (a cluster cannot "
                    + "speak tcp to an RPC listener)");
        }
    }
}
