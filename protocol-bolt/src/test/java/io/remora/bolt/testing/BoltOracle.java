package io.remora.bolt.testing;

import com.alipay.remoting.InvokeContext;
import com.alipay.remoting.rpc.ResponseCommand;
import com.alipay.remoting.rpc.RpcCommand;
import com.alipay.remoting.rpc.RpcResponseResolver;
import com.alipay.remoting.rpc.protocol.RpcCommandDecoder;
import com.alipay.remoting.rpc.protocol.RpcCommandDecoderV2;
import com.alipay.sofa.rpc.codec.bolt.SofaRpcSerializationRegister;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.channel.ChannelHandler;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.List;

/**
 * The real SOFA Bolt decoders ({@code RpcCommandDecoder}/{@code RpcCommandDecoderV2}, CRC check included) and
 * SOFARPC's serializers as an oracle: what a real client would make of bytes we produce.
 */
public final class BoltOracle {

    static {
        new SofaRpcSerializationRegister().doRegisterCustomSerializer();
    }

    private static final InetSocketAddress PEER = new InetSocketAddress("127.0.0.1", 12200);

    private BoltOracle() {
    }

    /** Decodes exactly one command from {@code frame} with bolt's own decoder for the frame's protocol code. */
    public static RpcCommand decode(byte[] frame) {
        boolean v2 = frame[0] == 2;
        EmbeddedChannel ch = new EmbeddedChannel(new ChannelHandler[0]) {
            @Override
            protected SocketAddress remoteAddress0() {
                return PEER; // bolt's decoders log the peer as an InetSocketAddress
            }
        };
        ch.pipeline().addLast(new ByteToMessageDecoder() {
            private final Object decoder = v2 ? new RpcCommandDecoderV2() : new RpcCommandDecoder();

            @Override
            protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
                if (decoder instanceof RpcCommandDecoderV2 d) {
                    d.decode(ctx, in, out);
                } else {
                    ((RpcCommandDecoder) decoder).decode(ctx, in, out);
                }
            }
        });
        try {
            ch.writeInbound(Unpooled.wrappedBuffer(frame));
            Object cmd = ch.readInbound();
            if (cmd == null) {
                throw new AssertionError("bolt's decoder produced no command from " + frame.length + " bytes");
            }
            return (RpcCommand) cmd;
        } finally {
            ch.finishAndReleaseAll();
        }
    }

    /**
     * What the bolt client returns or throws for this response: the deserialized response object (a SOFARPC
     * {@code SofaResponse} for our error replies), or the exception bolt's {@code RpcResponseResolver} throws.
     */
    public static Object resolve(byte[] responseFrame) throws Exception {
        RpcCommand cmd = decode(responseFrame);
        cmd.setInvokeContext(new InvokeContext()); // SOFARPC's deserializer reads it, as on a real client
        return RpcResponseResolver.resolveResponseObject((ResponseCommand) cmd, "127.0.0.1:12200");
    }
}
