package io.remora.filters.circuitbreaker;

import io.remora.core.config.ConfigException;
import io.remora.filters.rules.RuleReader;
import io.remora.filters.rules.RuleScope;

/**
 * A circuit breaker rule. Over a sliding window of {@code window_s} seconds, once at least {@code min_requests} calls
 * completed: {@code error_ratio} opens when errors ÷ calls ≥ {@code error_ratio_threshold} (0–1); {@code avg_rt} opens
 * when the average response time ≥ {@code rt_threshold_ms}. Open for {@code open_duration_ms}, then one trial call.
 */
public record CircuitBreakerRule(RuleScope scope, boolean avgRt, int windowSeconds, long minRequests,
                                 double errorRatioThreshold, long rtThresholdMs, long openDurationMs) {

    public static final String KIND = "circuit_breaker";

    public static CircuitBreakerRule parse(RuleReader r, RuleScope scope) throws ConfigException {
        boolean avgRt = r.choice("type", true, "error_ratio", "avg_rt").equals("avg_rt");
        int window = (int) r.integer("window_s", 10L, 1, 3600);
        long min = r.integer("min_requests", 10L, 1, 1_000_000_000L);
        double ratio = 1;
        long rt = 0;
        if (avgRt) {
            if (r.has("error_ratio_threshold")) {
                throw r.error("error_ratio_threshold", "applies to type error_ratio only");
            }
            rt = r.integer("rt_threshold_ms", null, 1, 3_600_000);
        } else {
            if (r.has("rt_threshold_ms")) {
                throw r.error("rt_threshold_ms", "applies to type avg_rt only");
            }
            ratio = r.number("error_ratio_threshold", null, 0, true, 1);
        }
        long open = r.integer("open_duration_ms", 5000L, 1, 86_400_000);
        return new CircuitBreakerRule(scope, avgRt, window, min, ratio, rt, open);
    }
}
