package io.remora.examples.bench;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Closed-loop (a fixed number of calls in flight, each completion sends the next) and open-loop (calls sent at a fixed
 * rate whatever the replies do) drivers. Open-loop latency runs from each call's intended start time, so a stalled
 * target is charged for every call it delayed (no coordinated omission, as in wrk2).
 */
final class Drive {

    /** Calls still outstanding beyond this many are not sent and counted as errors: bounds the client's memory. */
    private static final int MAX_OUTSTANDING = 20_000;

    record Outcome(long requests, long errors, double seconds, Histogram micros, String firstError) {
        double throughput() {
            return requests / seconds;
        }
    }

    private Drive() {
    }

    static Outcome closed(AsyncCaller caller, int inFlight, double warmupSeconds, double seconds) throws InterruptedException {
        Recorder rec = new Recorder(3);
        AtomicLong errors = new AtomicLong();
        AtomicReference<String> firstError = new AtomicReference<>();
        long t0 = System.nanoTime();
        long measureFrom = t0 + (long) (warmupSeconds * 1e9);
        long end = measureFrom + (long) (seconds * 1e9);
        AtomicLong live = new AtomicLong(inFlight);
        final class Loop implements AsyncCaller.Done {
            long start;

            void next() {
                start = System.nanoTime();
                if (start >= end) {
                    live.decrementAndGet();
                    return;
                }
                caller.call(this);
            }

            @Override
            public void ok() {
                long now = System.nanoTime();
                if (start >= measureFrom) {
                    rec.recordValue(Math.max(1, (now - start) / 1000));
                }
                next();
            }

            @Override
            public void failed(Throwable cause) {
                if (start >= measureFrom) {
                    errors.incrementAndGet();
                    firstError.compareAndSet(null, String.valueOf(cause));
                }
                LockSupport.parkNanos(1_000_000); // a failing target must not turn this into a busy loop
                next();
            }
        }
        for (int i = 0; i < inFlight; i++) {
            new Loop().next();
        }
        awaitZero(live, end + TimeUnit.SECONDS.toNanos(15));
        Histogram h = rec.getIntervalHistogram();
        return new Outcome(h.getTotalCount(), errors.get(), seconds, h, firstError.get());
    }

    static Outcome open(AsyncCaller caller, double ratePerSecond, double warmupSeconds, double seconds)
            throws InterruptedException {
        Recorder rec = new Recorder(3);
        AtomicLong errors = new AtomicLong();
        AtomicLong outstanding = new AtomicLong();
        AtomicReference<String> firstError = new AtomicReference<>();
        double period = 1e9 / ratePerSecond;
        long t0 = System.nanoTime();
        long measureFrom = t0 + (long) (warmupSeconds * 1e9);
        long end = measureFrom + (long) (seconds * 1e9);
        for (long i = 0; ; i++) {
            long intended = t0 + (long) (i * period);
            if (intended >= end) {
                break;
            }
            long wait;
            while ((wait = intended - System.nanoTime()) > 0) {
                if (wait > 60_000) {
                    LockSupport.parkNanos(wait - 50_000);
                } else {
                    Thread.onSpinWait();
                }
            }
            boolean measured = intended >= measureFrom;
            if (outstanding.incrementAndGet() > MAX_OUTSTANDING) {
                outstanding.decrementAndGet();
                if (measured) {
                    errors.incrementAndGet();
                    firstError.compareAndSet(null, "client backlog over " + MAX_OUTSTANDING);
                }
                continue;
            }
            caller.call(new AsyncCaller.Done() {
                @Override
                public void ok() {
                    if (measured) {
                        rec.recordValue(Math.max(1, (System.nanoTime() - intended) / 1000));
                    }
                    outstanding.decrementAndGet();
                }

                @Override
                public void failed(Throwable cause) {
                    if (measured) {
                        errors.incrementAndGet();
                        firstError.compareAndSet(null, String.valueOf(cause));
                    }
                    outstanding.decrementAndGet();
                }
            });
        }
        awaitZero(outstanding, System.nanoTime() + TimeUnit.SECONDS.toNanos(15));
        Histogram h = rec.getIntervalHistogram();
        return new Outcome(h.getTotalCount(), errors.get(), seconds, h, firstError.get());
    }

    /** Replies arrive on client threads: a bounded poll for the last ones. */
    private static void awaitZero(AtomicLong n, long deadline) throws InterruptedException {
        while (n.get() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
    }
}
