package io.remora.filters.circuitbreaker;

import io.remora.core.protocol.ResponseClass;
import io.remora.filters.rules.Permit;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One breaker (one rule × service × method). The state is an immutable object swapped by CAS; time comes from the
 * injected ticker; it logs only on transitions. CLOSED counts calls in a sliding window and opens on the rule's
 * threshold; OPEN refuses until its time is up, then lets exactly one trial call through (HALF_OPEN); the trial's
 * outcome closes it (with a fresh window) or re-opens it. A trial that never reports back is replaced after the open
 * duration.
 */
public final class CircuitBreaker {

    private static final Logger log = LoggerFactory.getLogger("io.remora.governance");

    public enum Phase { CLOSED, OPEN, HALF_OPEN }

    private record State(Phase phase, long since, long until, SlidingWindow window) {
    }

    private final BreakerGroup group;
    private final CircuitBreakerRule rule;
    private final String key;
    private final LongSupplier ticker;
    private final long windowNanos;
    private final long openNanos;
    private final long rtThresholdNanos;
    private final AtomicReference<State> state;
    /** Preallocated per-request markers, so admitting a call allocates nothing. */
    private final Permit normal;
    private final Permit trial;

    CircuitBreaker(BreakerGroup group, String key, LongSupplier ticker) {
        this.group = group;
        this.rule = group.rule();
        this.normal = new Call(group, false);
        this.trial = new Call(group, true);
        this.key = key;
        this.ticker = ticker;
        this.windowNanos = TimeUnit.SECONDS.toNanos(rule.windowSeconds());
        this.openNanos = TimeUnit.MILLISECONDS.toNanos(rule.openDurationMs());
        this.rtThresholdNanos = TimeUnit.MILLISECONDS.toNanos(rule.rtThresholdMs());
        this.state = new AtomicReference<>(closed(ticker.getAsLong()));
    }

    private State closed(long now) {
        return new State(Phase.CLOSED, now, 0, new SlidingWindow(windowNanos));
    }

    public Phase phase() {
        return state.get().phase();
    }

    String key() {
        return key;
    }

    /** Lets a call through (closed), lets one trial through (open and due), or refuses it. */
    Permit tryAcquire() {
        for (;;) {
            State s = state.get();
            if (s.phase == Phase.CLOSED) {
                return normal;
            }
            long now = ticker.getAsLong();
            boolean due = s.phase == Phase.OPEN ? now - s.until >= 0 : now - s.since >= openNanos;
            if (!due) {
                return group.refuse();
            }
            if (state.compareAndSet(s, new State(Phase.HALF_OPEN, now, 0, null))) {
                if (s.phase == Phase.OPEN) {
                    log.info("circuit breaker {} {} half-open: letting one trial call through", rule.scope().name(),
                            key);
                }
                return trial;
            }
        }
    }

    /** A trial admitted by {@link #tryAcquire} will not run (a later rule refused the call): let the next one try. */
    private void abandonTrial() {
        State s = state.get();
        if (s.phase == Phase.HALF_OPEN) {
            state.compareAndSet(s, new State(Phase.OPEN, s.since, s.since, null));
        }
    }

    private void onComplete(boolean wasTrial, boolean error, long rtNanos) {
        long now = ticker.getAsLong();
        State s = state.get();
        if (wasTrial) {
            if (s.phase != Phase.HALF_OPEN) {
                return;
            }
            boolean failed = error || (rule.avgRt() && rtNanos >= rtThresholdNanos);
            State next = failed ? new State(Phase.OPEN, now, now + openNanos, null) : closed(now);
            if (state.compareAndSet(s, next)) {
                log.warn("circuit breaker {} {} {} after trial call ({})", rule.scope().name(), key,
                        failed ? "re-opened" : "closed", failed ? (error ? "error" : "slow") : "success");
            }
            return;
        }
        if (s.phase != Phase.CLOSED) {
            return;
        }
        s.window.record(now, error, rtNanos);
        SlidingWindow.Counts c = s.window.counts(now);
        if (c.calls() < rule.minRequests()) {
            return;
        }
        boolean trip = rule.avgRt() ? c.avgRtNanos() >= rtThresholdNanos : c.errorRatio() >= rule.errorRatioThreshold();
        if (trip && state.compareAndSet(s, new State(Phase.OPEN, now, now + openNanos, null))) {
            log.warn("circuit breaker {} {} opened for {} ms: {} calls, {} errors, avg rt {} ms in the last {} s",
                    rule.scope().name(), key, rule.openDurationMs(), c.calls(), c.errors(),
                    TimeUnit.NANOSECONDS.toMillis(c.avgRtNanos()), rule.windowSeconds());
        }
    }

    /** One admitted call: its outcome is fed to the breaker's window, or judges the trial. */
    private final class Call extends Permit {

        private final boolean isTrial;

        Call(BreakerGroup group, boolean isTrial) {
            super(group, false);
            this.isTrial = isTrial;
        }

        @Override
        protected void complete(ResponseClass result, long durationNanos) {
            onComplete(isTrial, result.isError(), durationNanos);
        }

        @Override
        protected void release() {
            if (isTrial) {
                abandonTrial();
            }
        }
    }
}
