package io.remora.core.proxy;

import io.netty.channel.Channel;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.FastThreadLocal;
import java.util.ArrayList;
import java.util.concurrent.TimeUnit;

/**
 * Per-event-loop state: the loop's upstream pool and the channels written to during the current read batch, flushed
 * once at its end (one syscall per channel per batch instead of one per frame), the loop's request timeouts and its
 * free streams. Touched only by its own loop thread.
 */
final class LoopContext {

    private static final FastThreadLocal<LoopContext> CURRENT = new FastThreadLocal<>() {
        @Override
        protected LoopContext initialValue() {
            return new LoopContext();
        }
    };

    final UpstreamPool pool = new UpstreamPool();
    private final ArrayList<Channel> dirty = new ArrayList<>(8);
    private TimeoutWheel timeouts;
    /** Streams that ended on the plain path, for reuse (bounded: a burst beyond it is left to the GC). */
    private final RpcStream[] freeStreams = new RpcStream[MAX_FREE_STREAMS];
    private int freeCount;
    static final int MAX_FREE_STREAMS = 256;

    static LoopContext current() {
        return CURRENT.get();
    }

    /** The loop's timeout wheel; {@code loop} is the caller's own (current) event loop. */
    TimeoutWheel timeouts(EventExecutor loop) {
        TimeoutWheel w = timeouts;
        if (w == null) {
            w = new TimeoutWheel(TimeoutWheel.DEFAULT_TICK_NANOS, TimeoutWheel.DEFAULT_SLOTS, System::nanoTime,
                    (task, delay) -> loop.schedule(task, delay, TimeUnit.NANOSECONDS));
            timeouts = w;
        }
        return w;
    }

    /** A recycled stream, or null. */
    RpcStream takeStream() {
        int n = freeCount;
        if (n == 0) {
            return null;
        }
        RpcStream s = freeStreams[--n];
        freeStreams[n] = null;
        freeCount = n;
        return s;
    }

    void recycle(RpcStream s) {
        if (freeCount < MAX_FREE_STREAMS) {
            freeStreams[freeCount++] = s;
        }
    }

    /** Writes without flushing; the caller's entry point ends with {@link #flush()}. */
    void write(Channel ch, Object msg) {
        ch.write(msg, ch.voidPromise());
        ArrayList<Channel> d = dirty;
        for (int i = 0, n = d.size(); i < n; i++) {
            if (d.get(i) == ch) {
                return;
            }
        }
        d.add(ch);
    }

    void flush() {
        ArrayList<Channel> d = dirty;
        for (int i = 0, n = d.size(); i < n; i++) {
            d.get(i).flush();
        }
        d.clear();
    }
}
