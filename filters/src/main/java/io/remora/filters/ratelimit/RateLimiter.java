package io.remora.filters.ratelimit;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.remora.core.protocol.ResponseClass;
import io.remora.filters.rules.ActiveRule;
import io.remora.filters.rules.RuleCounters;
import io.remora.filters.rules.RuleScope;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/** A rate limit rule with its bucket (qps) and in-flight count, shared by all event loops. */
public final class RateLimiter implements ActiveRule {

    private final RateLimitRule rule;
    private final RuleCounters counters = new RuleCounters();
    private final TokenBucket bucket;
    private final AtomicInteger inFlight = new AtomicInteger();
    final String rejectMessage;
    /** Set while a smaller rule for the same traffic is enforced instead (smallest wins). */
    volatile String shadowedBy;

    public RateLimiter(RateLimitRule rule, LongSupplier ticker) {
        this.rule = rule;
        this.bucket = rule.concurrency() ? null
                : new TokenBucket(rule.threshold(), rule.unitMs(), rule.capacity(), ticker);
        this.rejectMessage = "rate limited by rule " + rule.scope().name();
    }

    public RateLimitRule rule() {
        return rule;
    }

    @Override
    public RuleScope scope() {
        return rule.scope();
    }

    @Override
    public RuleCounters counters() {
        return counters;
    }

    /**
     * Admits a call (taking a token or an in-flight slot). Observe mode always admits, counting the calls it would have
     * refused. A false return means refused: nothing was taken.
     */
    boolean tryPass() {
        boolean ok;
        if (rule.concurrency()) {
            if (rule.scope().observe()) {
                ok = inFlight.incrementAndGet() <= rule.threshold();
            } else {
                for (;;) {
                    int n = inFlight.get();
                    if (n >= rule.threshold()) {
                        return false;
                    }
                    if (inFlight.compareAndSet(n, n + 1)) {
                        return true;
                    }
                }
            }
        } else {
            ok = bucket.tryAcquire();
            if (ok || rule.scope().observe()) {
                inFlight.incrementAndGet();
            }
        }
        if (!ok) {
            if (!rule.scope().observe()) {
                return false;
            }
            counters.observed.increment();
        }
        return true;
    }

    /** Gives back what {@link #tryPass} took for a call that will not run after all. */
    void cancel() {
        inFlight.decrementAndGet();
        if (bucket != null && !rule.scope().observe()) {
            bucket.refund();
        }
    }

    void complete(ResponseClass result, long durationNanos) {
        inFlight.decrementAndGet();
        counters.completed.increment();
        if (result.isError()) {
            counters.exceptions.increment();
        }
        counters.rtNanos.add(durationNanos);
    }

    /** Whole tokens in the bucket now (qps rules), else -1. */
    long tokens() {
        return bucket == null ? -1 : bucket.available();
    }

    public int concurrency() {
        return inFlight.get();
    }

    public String shadowedBy() {
        return shadowedBy;
    }

    public void shadowedBy(String name) {
        this.shadowedBy = name;
    }

    @Override
    public void describeState(ObjectNode out) {
        out.put("concurrency", inFlight.get());
        if (bucket != null) {
            out.put("tokens", bucket.available());
        }
        if (shadowedBy != null) {
            out.put("shadowed_by", shadowedBy);
        }
    }
}
