package io.remora.core.transport;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.FastThreadLocal;
import java.util.concurrent.TimeUnit;

/**
 * All-idle detection for a connection: fires {@link IdleStateEvent#ALL_IDLE_STATE_EVENT} (as Netty's
 * {@code IdleStateHandler} does, again every period while the connection stays idle) when nothing was read or written
 * for {@code allIdleMillis}. Unlike Netty's, it schedules no task per connection: the loop's {@link Sweeper} walks
 * its connections a few times per period, so an idle connection costs this object and its context only (a scheduled
 * task, its runnable and a lambda per connection were a fifth of an idle connection's heap). A write counts when it is
 * queued, not when it completes (no listener per write). Runs on the connection's loop only.
 */
public final class IdleHandler extends ChannelDuplexHandler {

    private final long timeoutNanos;
    private ChannelHandlerContext ctx;
    private long lastActivity;
    /** Links in the loop's sweep list (null: not in it). */
    private IdleHandler prev;
    private IdleHandler next;
    private Sweeper sweeper;

    public IdleHandler(long allIdleMillis) {
        this.timeoutNanos = TimeUnit.MILLISECONDS.toNanos(allIdleMillis);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        if (ctx.channel().isActive() && ctx.channel().isRegistered()) {
            start();
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        start();
        super.channelActive(ctx);
    }

    @Override
    public void channelRegistered(ChannelHandlerContext ctx) throws Exception {
        if (ctx.channel().isActive()) {
            start();
        }
        super.channelRegistered(ctx);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        stop();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        stop();
        super.channelInactive(ctx);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        lastActivity = System.nanoTime();
        ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        lastActivity = System.nanoTime();
        ctx.write(msg, promise);
    }

    private void start() {
        if (sweeper == null && timeoutNanos > 0) {
            lastActivity = System.nanoTime();
            sweeper = Sweeper.of(ctx.executor());
            sweeper.add(this);
        }
    }

    private void stop() {
        Sweeper s = sweeper;
        if (s != null) {
            sweeper = null;
            s.remove(this);
        }
    }

    /** The connections of one event loop with an idle timeout, and the one task that checks them. */
    static final class Sweeper implements Runnable {
        private static final FastThreadLocal<Sweeper> LOOP = new FastThreadLocal<>();
        private static final long MAX_TICK_NANOS = TimeUnit.SECONDS.toNanos(1);
        private static final long MIN_TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

        private final EventExecutor loop;
        private IdleHandler head;
        private int size;
        private long tickNanos = MAX_TICK_NANOS;
        private boolean scheduled;

        private Sweeper(EventExecutor loop) {
            this.loop = loop;
        }

        static Sweeper of(EventExecutor loop) {
            Sweeper s = LOOP.get();
            if (s == null) {
                s = new Sweeper(loop);
                LOOP.set(s);
            }
            return s;
        }

        void add(IdleHandler h) {
            h.next = head;
            if (head != null) {
                head.prev = h;
            }
            head = h;
            size++;
            // a few checks per period: an idle connection is noticed within a quarter of its timeout
            tickNanos = Math.max(MIN_TICK_NANOS, Math.min(tickNanos, h.timeoutNanos / 4));
            if (!scheduled) {
                scheduled = true;
                loop.schedule(this, tickNanos, TimeUnit.NANOSECONDS);
            }
        }

        void remove(IdleHandler h) {
            if (h.prev != null) {
                h.prev.next = h.next;
            } else if (head == h) {
                head = h.next;
            }
            if (h.next != null) {
                h.next.prev = h.prev;
            }
            h.prev = null;
            h.next = null;
            size--;
        }

        int size() {
            return size;
        }

        @Override
        public void run() {
            long now = System.nanoTime();
            IdleHandler h = head;
            while (h != null) {
                IdleHandler next = h.next; // the event may close the connection and unlink h
                if (now - h.lastActivity >= h.timeoutNanos) {
                    h.lastActivity = now; // fire again one period later if it stays idle
                    h.ctx.fireUserEventTriggered(IdleStateEvent.ALL_IDLE_STATE_EVENT);
                }
                h = next;
            }
            if (head != null) {
                loop.schedule(this, tickNanos, TimeUnit.NANOSECONDS);
            } else {
                scheduled = false;
            }
        }
    }
}
