package io.remora.core.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class TimeoutWheelTest {

    static final long TICK = 10_000_000L;
    static final long MS = 1_000_000L;

    /** A manual clock and a single-slot scheduler: the test decides when the tick task runs. */
    static final class Harness {
        long now = 123_456_789L;
        Runnable task;
        long taskAt;
        int scheduled;
        final TimeoutWheel wheel = new TimeoutWheel(TICK, 64, () -> now, (t, delay) -> {
            task = t;
            taskAt = now + Math.max(0, delay);
            scheduled++;
        });

        /** Advances the clock to {@code until}, running the tick task whenever it is due. */
        void advanceTo(long until) {
            while (task != null && taskAt <= until) {
                now = Math.max(now, taskAt);
                Runnable t = task;
                task = null;
                t.run();
            }
            now = until;
        }
    }

    static final class Item implements TimeoutWheel.Entry {
        final List<Long> firedAt;
        final Harness h;
        TimeoutWheel.Entry prev;
        TimeoutWheel.Entry next;
        long deadline;
        int slot = -1;
        Runnable onExpiry;

        Item(Harness h, List<Long> firedAt) {
            this.h = h;
            this.firedAt = firedAt;
        }

        @Override public TimeoutWheel.Entry wheelPrev() { return prev; }
        @Override public void wheelPrev(TimeoutWheel.Entry e) { prev = e; }
        @Override public TimeoutWheel.Entry wheelNext() { return next; }
        @Override public void wheelNext(TimeoutWheel.Entry e) { next = e; }
        @Override public long wheelDeadline() { return deadline; }
        @Override public int wheelSlot() { return slot; }
        @Override public void wheelSet(int s, long d) { slot = s; deadline = d; }

        @Override
        public void expired() {
            firedAt.add(h.now);
            if (onExpiry != null) {
                onExpiry.run();
            }
        }
    }

    @Test
    void neverExpiresBeforeTheDeadlineAndAtMostOneTickAfter() {
        Harness h = new Harness();
        List<Long> fired = new ArrayList<>();
        Random rnd = new Random(7);
        for (int i = 0; i < 2_000; i++) {
            long deadline = h.now + 1 + (long) (rnd.nextDouble() * 3_000 * MS); // several turns of 64 x 10 ms
            Item it = new Item(h, fired);
            h.wheel.add(it, deadline);
            it.onExpiry = () -> {
                assertTrue(h.now >= deadline, "expired early");
                assertTrue(h.now - deadline <= TICK, "expired more than a tick late");
            };
        }
        assertEquals(2_000, h.wheel.size());
        long end = h.now + 4_000 * MS;
        for (long t = h.now; t < end; t += MS) {
            h.advanceTo(t);
        }
        assertEquals(2_000, fired.size());
        assertEquals(0, h.wheel.size());
        assertNull(h.task, "no tick task while the wheel is empty");
    }

    @Test
    void removedEntriesNeverExpire() {
        Harness h = new Harness();
        List<Long> fired = new ArrayList<>();
        Item a = new Item(h, fired);
        Item b = new Item(h, fired);
        Item c = new Item(h, fired);
        h.wheel.add(a, h.now + 50 * MS);
        h.wheel.add(b, h.now + 50 * MS);
        h.wheel.add(c, h.now + 50 * MS);
        h.wheel.remove(b);
        h.wheel.remove(b); // twice is harmless
        assertEquals(-1, b.slot);
        h.advanceTo(h.now + 100 * MS);
        assertEquals(2, fired.size());
        assertEquals(0, h.wheel.size());
    }

    @Test
    void reArmingFromExpiryWaitsForTheNewDeadline() {
        Harness h = new Harness();
        List<Long> fired = new ArrayList<>();
        Item a = new Item(h, fired);
        long start = h.now;
        a.onExpiry = () -> {
            if (fired.size() < 3) {
                h.wheel.add(a, h.now + 25 * MS); // a retry arming its next try from the expiry callback
            }
        };
        h.wheel.add(a, start + 25 * MS);
        h.advanceTo(start + 1_000 * MS);
        assertEquals(3, fired.size());
        for (int i = 0; i < 3; i++) {
            long prev = i == 0 ? start : fired.get(i - 1);
            assertTrue(fired.get(i) - prev >= 25 * MS);
            assertTrue(fired.get(i) - prev <= 25 * MS + TICK);
        }
        assertEquals(0, h.wheel.size());
    }

    @Test
    void expiryMayRemoveTheNextEntryOfTheSameSlot() {
        Harness h = new Harness();
        List<Long> fired = new ArrayList<>();
        Item a = new Item(h, fired);
        Item b = new Item(h, fired);
        h.wheel.add(b, h.now + 30 * MS);
        h.wheel.add(a, h.now + 30 * MS); // a is the slot's head, b follows it
        a.onExpiry = () -> h.wheel.remove(b);
        h.advanceTo(h.now + 100 * MS);
        assertEquals(1, fired.size());
        assertEquals(-1, b.slot);
        assertEquals(0, h.wheel.size());
    }

    @Test
    void aPastDeadlineExpiresAtTheNextTick() {
        Harness h = new Harness();
        List<Long> fired = new ArrayList<>();
        h.wheel.add(new Item(h, fired), h.now - 5 * MS);
        assertTrue(fired.isEmpty(), "never expires synchronously from add");
        h.advanceTo(h.now + TICK);
        assertEquals(1, fired.size());
    }

    @Test
    void tickTaskOnlyWhileNotEmpty() {
        Harness h = new Harness();
        List<Long> fired = new ArrayList<>();
        Item a = new Item(h, fired);
        h.wheel.add(a, h.now + 5_000 * MS);
        assertEquals(1, h.scheduled);
        h.wheel.add(new Item(h, fired), h.now + 5_000 * MS);
        assertEquals(1, h.scheduled, "one task for the whole wheel");
        h.wheel.remove(a);
        h.advanceTo(h.now + 6_000 * MS);
        assertEquals(1, fired.size());
        assertNull(h.task);
        assertFalse(h.wheel.size() > 0);
        h.wheel.add(a, h.now + 20 * MS); // idle for a long time, then used again
        h.advanceTo(h.now + 19 * MS);
        assertEquals(1, fired.size());
        h.advanceTo(h.now + 20 * MS);
        assertEquals(2, fired.size());
    }
}
