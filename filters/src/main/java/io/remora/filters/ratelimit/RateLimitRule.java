package io.remora.filters.ratelimit;

import io.remora.core.config.ConfigException;
import io.remora.filters.rules.RuleReader;
import io.remora.filters.rules.RuleScope;

/**
 * A rate limit rule. {@code qps}: a token bucket refilled with {@code threshold} tokens per {@code unit_ms}
 * (rate = threshold ÷ unit_ms), holding at most {@code capacity = max(1, threshold × bucket_coefficient)} tokens, i.e.
 * one unit's worth of tokens times the coefficient; it starts full. {@code concurrency}: at most {@code threshold}
 * calls in flight.
 */
public record RateLimitRule(RuleScope scope, boolean concurrency, long threshold, long unitMs, double coefficient) {

    public static final String KIND = "rate_limit";
    static final long MAX_THRESHOLD = 1_000_000_000L;

    public static RateLimitRule parse(RuleReader r, RuleScope scope) throws ConfigException {
        boolean concurrency = r.choice("type", true, "qps", "concurrency").equals("concurrency");
        long threshold = r.integer("threshold", null, 1, MAX_THRESHOLD);
        long unit = 1000;
        double coefficient = 1.0;
        if (concurrency) {
            for (String f : new String[] {"unit_ms", "bucket_coefficient"}) {
                if (r.has(f)) {
                    throw r.error(f, "applies to type qps only");
                }
            }
        } else {
            unit = r.integer("unit_ms", 1000L, 1, 3_600_000);
            coefficient = r.number("bucket_coefficient", 1.0, 0, true, 1000);
        }
        return new RateLimitRule(scope, concurrency, threshold, unit, coefficient);
    }

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
