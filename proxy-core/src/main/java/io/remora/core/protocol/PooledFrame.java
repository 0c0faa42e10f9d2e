package io.remora.core.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.util.IllegalReferenceCountException;

/**
 * Base of a codec's frame object that is reused through a pool (Netty's {@code Recycler}): the frame has its own
 * reference count and holds one reference to its slice of the frame's bytes, which is released (and the object
 * returned to the pool) at the last release. Lives on one event loop, so the count is a plain int.
 */
public abstract class PooledFrame implements RpcFrame {

    /** The frame's bytes; null once released. Read by absolute index (the reader index may be a channel's). */
    protected ByteBuf buf;
    /** The frame's length in bytes, fixed when opened. */
    protected int length;
    private int refs;
    /** Never back to the pool: someone may look at the object after its last release. */
    private boolean keep;
    /** The slice itself was handed to a channel once (its indexes are the channel's now). */
    private boolean handedOut;

    /** Starts a pooled object's new life over {@code buf} (the caller's reference moves to the frame). */
    protected final void open(ByteBuf buf) {
        this.buf = buf;
        this.length = buf.readableBytes();
        this.refs = 1;
        this.keep = false;
        this.handedOut = false;
    }

    /** Drops the subclass's references to per-frame state before the object goes back to the pool. */
    protected abstract void clear();

    /** Gives the object back to its pool ({@code handle.recycle(this)}). */
    protected abstract void backToPool();

    @Override
    public ByteBuf content() {
        return buf;
    }

    @Override
    public int size() {
        return length;
    }

    @Override
    public void keepObject() {
        keep = true;
    }

    /**
     * The bytes to write for the caller's reference, which this call takes. The sole owner gets the slice itself and
     * the frame object goes back to the pool; while others still hold the frame (a request kept for retries) the
     * first write gets the slice itself too (the frame reads by absolute index, so the channel moving the reader index
     * does not disturb it) and later ones (retries, while an earlier write may still be queued) their own view.
     */
    public ByteBuf handOver() {
        ensureLive();
        ByteBuf b = buf;
        if (refs == 1) {
            refs = 0;
            buf = null;
            recycle();
            return b;
        }
        ByteBuf out;
        if (!handedOut) {
            handedOut = true;
            out = b.retain();
        } else {
            out = b.retainedSlice(0, length);
        }
        release();
        return out;
    }

    protected final void ensureLive() {
        if (refs <= 0) {
            throw new IllegalReferenceCountException(refs);
        }
    }

    private void recycle() {
        clear();
        if (!keep) {
            backToPool();
        }
    }

    // ---- ReferenceCounted: the frame's own count; the frame holds one reference to its slice

    @Override
    public int refCnt() {
        return refs;
    }

    @Override
    public PooledFrame retain() {
        return retain(1);
    }

    @Override
    public PooledFrame retain(int increment) {
        ensureLive();
        refs += increment;
        return this;
    }

    @Override
    public PooledFrame touch() {
        ensureLive();
        buf.touch();
        return this;
    }

    @Override
    public PooledFrame touch(Object hint) {
        ensureLive();
        buf.touch(hint);
        return this;
    }

    @Override
    public boolean release() {
        return release(1);
    }

    @Override
    public boolean release(int decrement) {
        if (decrement <= 0 || refs < decrement) {
            throw new IllegalReferenceCountException(refs, -decrement);
        }
        refs -= decrement;
        if (refs > 0) {
            return false;
        }
        ByteBuf b = buf;
        buf = null;
        recycle();
        b.release();
        return true;
    }
}
