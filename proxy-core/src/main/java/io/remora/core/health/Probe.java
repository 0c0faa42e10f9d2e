package io.remora.core.health;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.util.ReferenceCountUtil;
import io.remora.core.protocol.FrameKind;
import io.remora.core.protocol.RpcCodec;
import io.remora.core.protocol.RpcFrame;
import io.remora.core.transport.Transport;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * One non-blocking health probe: a TCP connect, and with a codec also the protocol heartbeat, answered within the
 * timeout. Runs on the health event loop; reports once (true = healthy) and closes its connection.
 */
final class Probe extends ChannelInboundHandlerAdapter {

    private static final long PROBE_ID = 1;

    private final RpcCodec codec;
    private final Consumer<Boolean> result;
    private boolean reported;
    private Channel channel;

    private Probe(RpcCodec codec, Consumer<Boolean> result) {
        this.codec = codec;
        this.result = result;
    }

    /** Starts a probe of {@code address}; {@code codec} null = TCP connect only. */
    static void run(EventLoopGroup group, InetSocketAddress address, RpcCodec codec, long timeoutMillis,
                    Consumer<Boolean> result) {
        run(group, address, codec, timeoutMillis, null, result);
    }

    /** As above; {@code first} (may be null) adds handlers first, e.g. the cluster's TLS for a heartbeat probe. */
    static void run(EventLoopGroup group, InetSocketAddress address, RpcCodec codec, long timeoutMillis,
                    Consumer<Channel> first, Consumer<Boolean> result) {
        Probe p = new Probe(codec, result);
        Bootstrap b = new Bootstrap()
                .group(group)
                .channel(Transport.get().socketChannelClass())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.max(1, timeoutMillis))
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (first != null) {
                            first.accept(ch);
                        }
                        if (codec != null) {
                            ch.pipeline().addLast("decoder", codec.newDecoder());
                        }
                        ch.pipeline().addLast("probe", p);
                    }
                });
        ChannelFuture f = b.connect(address);
        p.channel = f.channel();
        f.channel().eventLoop().schedule(() -> p.report(false), timeoutMillis, TimeUnit.MILLISECONDS);
        f.addListener(done -> {
            if (!f.isSuccess()) {
                p.report(false);
            } else if (codec == null) {
                p.report(true);
            } else {
                ByteBuf hb = codec.heartbeat(PROBE_ID, f.channel().alloc());
                if (hb == null) {
                    p.report(true); // the protocol has no heartbeat: a connect is all we can check
                } else {
                    f.channel().writeAndFlush(hb).addListener(w -> {
                        if (!w.isSuccess()) {
                            p.report(false);
                        }
                    });
                }
            }
        });
    }

    private void report(boolean ok) {
        if (reported) {
            return;
        }
        reported = true;
        channel.close();
        result.accept(ok);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (msg instanceof RpcFrame f && (f.kind() == FrameKind.HEARTBEAT_ACK || f.kind() == FrameKind.RESPONSE)
                    && f.requestId() == PROBE_ID) {
                report(true);
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        report(false);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        report(false);
    }
}
