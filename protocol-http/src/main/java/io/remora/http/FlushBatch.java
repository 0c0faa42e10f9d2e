package io.remora.http;

import io.netty.channel.Channel;
import io.netty.util.concurrent.FastThreadLocal;
import java.util.ArrayList;

/**
 * Flushes of one event loop deferred to the end of its current I/O round: a read of many HTTP/2 frames used to flush
 * the other side's connection once per stream (one writev per request); now every stream written in the round goes
 * out in one write. Only the loop's own thread touches it; the list holds what one round wrote, so it stays small.
 */
final class FlushBatch implements Runnable {

    private static final FastThreadLocal<FlushBatch> CURRENT = new FastThreadLocal<>() {
        @Override
        protected FlushBatch initialValue() {
            return new FlushBatch();
        }
    };

    private ArrayList<Channel> pending = new ArrayList<>();
    private ArrayList<Channel> flushing = new ArrayList<>();
    private boolean scheduled;

    /** Flush {@code ch} once the loop has finished its current I/O (call on ch's own event loop). */
    static void flushLater(Channel ch) {
        if (!ch.eventLoop().inEventLoop()) {
            ch.flush(); // not from the loop's own round: nothing to batch with
            return;
        }
        CURRENT.get().add(ch);
    }

    private void add(Channel ch) {
        int n = pending.size();
        if (n > 0 && pending.get(n - 1) == ch) {
            return; // the same channel twice in a row: once is enough
        }
        pending.add(ch);
        if (!scheduled) {
            scheduled = true;
            ch.eventLoop().execute(this); // runs after the loop's pending I/O events, on this thread
        }
    }

    @Override
    public void run() {
        // a flush can write more (writability events): those go to a fresh list and a next run
        ArrayList<Channel> batch = pending;
        pending = flushing;
        flushing = batch;
        scheduled = false;
        for (int i = 0; i < batch.size(); i++) {
            batch.get(i).flush();
        }
        batch.clear();
    }
}
