package io.remora.filters.ratelimit;

import io.remora.filters.rules.RuleConfig;
import io.remora.filters.rules.RuleScope;

/**
 * A rate limit rule. {@code qps}: a token bucket refilled with {@code threshold} tokens per {@code unit_ms}
 * (rate = threshold ÷ unit_ms), holding at most {@code capacity = max(1, threshold × bucket_coefficient)} tokens, i.e.
 * one unit's worth of tokens times the coefficient; it starts full. {@code concurrency}: at most {@code threshold}
 * calls in flight.
 */
public record RateLimitRule(RuleScope scope, boolean concurrency, long threshold, long unitMs, double coefficient)
        implements RuleConfig {

    public static final String KIND = "rate_limit";

    /** Bucket capacity in tokens. */
    public double capacity() {
        return Math.max(1.0, threshold * coefficient);
    }

    /** For smallest-wins: calls per second for qps, calls in flight for concurrency. */
    double limit() {
        return concurrency ? threshold : threshold * 1000.0 / unitMs;
    }

    /** Rules with equal keys limit the same traffic in the same way; only the smallest of them is enforced. */
    String groupKey() {
        return scope.matchKey() + "|" + (concurrency ? "concurrency" : "qps");
    }
}
