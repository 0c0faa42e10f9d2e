package io.remora.core.proxy;

import io.netty.channel.Channel;
import io.netty.util.concurrent.FastThreadLocal;
import java.util.ArrayList;

/**
 * Per-event-loop state: the loop's upstream pool and the channels written to during the current read batch, flushed
 * once at its end (one syscall per channel per batch instead of one per frame). Touched only by its own loop thread.
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

    static LoopContext current() {
        return CURRENT.get();
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
