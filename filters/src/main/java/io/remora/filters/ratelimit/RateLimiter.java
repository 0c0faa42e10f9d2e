package io.remora.filters.ratelimit;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.remora.core.protocol.ResponseClass;
import io.remora.filters.rules.ActiveRule;
import io.remora.filters.rules.Permit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/** A rate limit rule with its bucket (qps) and in-flight count, shared by all event loops. */
public final class RateLimiter extends ActiveRule<RateLimitRule> {

    private final TokenBucket bucket;
    private final AtomicInteger inFlight = new AtomicInteger();
    /** A call let through holds an in-flight slot (and, intercepting qps, a token) until it ends. */
    private final Permit admitted = new InFlight(false);
    /** Observe mode: a call it would have refused still goes on, and counts in flight. */
    private final Permit wouldRefuse = new InFlight(true);

    RateLimiter(RateLimitKind kind, RateLimitRule rule, LongSupplier ticker) {
        super(kind, rule);
        this.bucket = rule.concurrency() ? null
                : new TokenBucket(rule.threshold(), rule.unitMs(), rule.capacity(), ticker);
    }

    /**
     * Admits a call (taking a token or an in-flight slot), or refuses it having taken nothing. Observe mode always
     * lets the call go on, holding its slot, with the decision it would have made.
     */
    Permit tryPass() {
        boolean observe = scope().observe();
        boolean ok;
        if (rule().concurrency()) {
            if (!observe) {
                for (;;) {
                    int n = inFlight.get();
                    if (n >= rule().threshold()) {
                        return refuse();
                    }
                    if (inFlight.compareAndSet(n, n + 1)) {
                        return admitted;
                    }
                }
            }
            ok = inFlight.incrementAndGet() <= rule().threshold();
        } else {
            ok = bucket.tryAcquire();
            if (!ok && !observe) {
                return refuse();
            }
            inFlight.incrementAndGet();
        }
        return ok ? admitted : wouldRefuse;
    }

    /** Gives back what {@link #tryPass} took for a call that will not run after all. */
    private void cancel() {
        inFlight.decrementAndGet();
        if (bucket != null && !scope().observe()) {
            bucket.refund();
        }
    }

    private void complete(ResponseClass result, long durationNanos) {
        inFlight.decrementAndGet();
        counters().completed.increment();
        if (result.isError()) {
            counters().exceptions.increment();
        }
        counters().rtNanos.add(durationNanos);
    }

    /** Whole tokens in the bucket now (qps rules), else -1. */
    long tokens() {
        return bucket == null ? -1 : bucket.available();
    }

    public int concurrency() {
        return inFlight.get();
    }

    @Override
    public void describeState(ObjectNode out) {
        out.put("concurrency", inFlight.get());
        if (bucket != null) {
            out.put("tokens", bucket.available());
        }
    }

    private final class InFlight extends Permit {

        InFlight(boolean refused) {
            super(RateLimiter.this, refused);
        }

        @Override
        protected void complete(ResponseClass result, long durationNanos) {
            RateLimiter.this.complete(result, durationNanos);
        }

        @Override
        protected void release() {
            cancel();
        }
    }
}
