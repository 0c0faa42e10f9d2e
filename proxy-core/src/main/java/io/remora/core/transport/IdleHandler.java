package io.remora.core.transport;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.timeout.IdleStateHandler;
import java.util.concurrent.TimeUnit;

/**
 * An all-idle {@link IdleStateHandler} that counts a write when it is queued instead of when it completes: Netty's
 * version turns every void promise into a real one and adds a listener (three objects per write), which was a fifth
 * of the sidecar's per-request garbage. For idle detection (heartbeats, idle close) the difference does not matter.
 */
public final class IdleHandler extends IdleStateHandler {

    public IdleHandler(long allIdleMillis) {
        super(0, 0, allIdleMillis, TimeUnit.MILLISECONDS);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        resetWriteTimeout();
        ctx.write(msg, promise);
    }
}
