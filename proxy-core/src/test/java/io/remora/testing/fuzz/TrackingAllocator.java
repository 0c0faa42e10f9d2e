package io.remora.testing.fuzz;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.UnpooledDirectByteBuf;
import io.netty.buffer.UnpooledHeapByteBuf;
import java.util.ArrayList;
import java.util.List;

/**
 * An allocator that remembers every buffer it hands out, so a fuzz target can check after each input that all of them
 * were released: a deterministic leak oracle for one input, where Netty's detector only reports after a GC, later and
 * for some other input. Not thread-safe: one channel, one thread (an {@code EmbeddedChannel}).
 */
public final class TrackingAllocator extends AbstractByteBufAllocator {

    private final List<ByteBuf> allocated = new ArrayList<>();

    public TrackingAllocator() {
        super(false);
    }

    @Override
    public boolean isDirectBufferPooled() {
        return false;
    }

    @Override
    protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
        return track(new UnpooledHeapByteBuf(this, initialCapacity, maxCapacity));
    }

    @Override
    protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
        return track(new UnpooledDirectByteBuf(this, initialCapacity, maxCapacity));
    }

    @Override
    public CompositeByteBuf compositeHeapBuffer(int maxNumComponents) {
        return track(super.compositeHeapBuffer(maxNumComponents));
    }

    @Override
    public CompositeByteBuf compositeDirectBuffer(int maxNumComponents) {
        return track(super.compositeDirectBuffer(maxNumComponents));
    }

    private <T extends ByteBuf> T track(T b) {
        allocated.add(b);
        return b;
    }

    /** A heap buffer holding a copy of {@code bytes[from, to)}. */
    public ByteBuf copyOf(byte[] bytes, int from, int to) {
        ByteBuf b = heapBuffer(to - from);
        b.writeBytes(bytes, from, to - from);
        return b;
    }

    /** Buffers handed out and not yet released (reference count above zero). */
    public int unreleased() {
        int n = 0;
        for (ByteBuf b : allocated) {
            if (b.refCnt() > 0) {
                n++;
            }
        }
        return n;
    }

    /**
     * Throws if any buffer handed out since the last call is still referenced, after releasing it (so one finding does
     * not cascade into the next input); forgets them all either way.
     */
    public void assertAllReleased(String after) {
        int n = 0;
        StringBuilder which = new StringBuilder();
        for (ByteBuf b : allocated) {
            int refs = b.refCnt();
            if (refs > 0) {
                if (n++ < 4) {
                    which.append("\n  ").append(b).append(" refCnt=").append(refs);
                }
                b.release(refs);
            }
        }
        allocated.clear();
        if (n > 0) {
            throw new AssertionError(n + " buffer(s) still referenced after " + after + ":" + which);
        }
    }
}
