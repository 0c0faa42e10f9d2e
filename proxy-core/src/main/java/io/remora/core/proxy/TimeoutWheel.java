package io.remora.core.proxy;

import java.util.function.LongSupplier;

/**
 * A hashed timing wheel for one event loop: request timeouts without a scheduled task per request. Entries are
 * intrusive (their links live on the entry, no node objects); add and remove are O(1). One tick task is scheduled
 * only while the wheel holds entries. An entry never expires before its deadline and at most about one tick after
 * it (plus whatever the loop itself is late). Not thread-safe: only its loop touches it.
 */
final class TimeoutWheel implements Runnable {

    /** Something with a deadline; the wheel owns its link fields while it is in the wheel. */
    interface Entry {
        Entry wheelPrev();

        void wheelPrev(Entry e);

        Entry wheelNext();

        void wheelNext(Entry e);

        long wheelDeadline();

        /** The slot holding the entry, or -1 when it is not in the wheel. */
        int wheelSlot();

        void wheelSet(int slot, long deadlineNanos);

        /** The deadline passed; the entry is already out of the wheel (it may add itself again). */
        void expired();
    }

    /** Arms the tick task: runs {@code task} after {@code delayNanos} on the wheel's loop. */
    interface Scheduler {
        void schedule(Runnable task, long delayNanos);
    }

    static final long DEFAULT_TICK_NANOS = 10_000_000L;
    static final int DEFAULT_SLOTS = 512;

    private final long tickNanos;
    private final int mask;
    private final Entry[] heads;
    private final LongSupplier clock;
    private final Scheduler scheduler;
    private int size;
    /** Every tick up to and including this one has been processed. */
    private long doneTick;
    private boolean armed;
    /** The entry the expiry pass visits next; a removal of it moves the cursor on. */
    private Entry cursor;

    TimeoutWheel(long tickNanos, int slots, LongSupplier clock, Scheduler scheduler) {
        if (Integer.bitCount(slots) != 1 || tickNanos <= 0) {
            throw new IllegalArgumentException("slots must be a power of two and the tick positive");
        }
        this.tickNanos = tickNanos;
        this.mask = slots - 1;
        this.heads = new Entry[slots];
        this.clock = clock;
        this.scheduler = scheduler;
    }

    int size() {
        return size;
    }

    /** Adds {@code e} (not in the wheel) to expire at {@code deadlineNanos} (a {@link System#nanoTime} value). */
    void add(Entry e, long deadlineNanos) {
        if (e.wheelSlot() >= 0) {
            remove(e);
        }
        if (!armed) {
            doneTick = Math.floorDiv(clock.getAsLong(), tickNanos);
        }
        // processed at the first tick whose start is at or after the deadline, never in a tick already processed
        long tick = Math.max(Math.floorDiv(deadlineNanos - 1, tickNanos) + 1, doneTick + 1);
        int slot = (int) (tick & mask);
        Entry head = heads[slot];
        e.wheelSet(slot, deadlineNanos);
        e.wheelPrev(null);
        e.wheelNext(head);
        if (head != null) {
            head.wheelPrev(e);
        }
        heads[slot] = e;
        size++;
        if (!armed) {
            armed = true;
            scheduler.schedule(this, (doneTick + 1) * tickNanos - clock.getAsLong());
        }
    }

    /** Takes {@code e} out of the wheel; a no-op when it is not in. */
    void remove(Entry e) {
        int slot = e.wheelSlot();
        if (slot < 0) {
            return;
        }
        Entry prev = e.wheelPrev();
        Entry next = e.wheelNext();
        if (e == cursor) {
            cursor = next;
        }
        if (prev == null) {
            heads[slot] = next;
        } else {
            prev.wheelNext(next);
        }
        if (next != null) {
            next.wheelPrev(prev);
        }
        e.wheelPrev(null);
        e.wheelNext(null);
        e.wheelSet(-1, 0);
        size--;
    }

    /** The tick: expires every due entry of the ticks that passed, then re-arms while entries remain. */
    @Override
    public void run() {
        long now = clock.getAsLong();
        long nowTick = Math.floorDiv(now, tickNanos);
        long from = doneTick + 1;
        long to = Math.min(nowTick, doneTick + mask + 1); // a whole turn visits every slot once
        for (long t = from; t <= to && size > 0; t++) {
            doneTick = t; // an entry re-added while expiring lands in a later tick, not behind the pass
            expireSlot((int) (t & mask), now);
        }
        doneTick = Math.max(doneTick, nowTick);
        if (size > 0) {
            scheduler.schedule(this, (doneTick + 1) * tickNanos - clock.getAsLong());
        } else {
            armed = false;
        }
    }

    private void expireSlot(int slot, long now) {
        Entry e = heads[slot];
        while (e != null) {
            cursor = e.wheelNext();
            if (e.wheelDeadline() - now <= 0) {
                remove(e);
                e.expired();
            }
            e = cursor;
        }
        cursor = null;
    }
}
