package io.remora.filters.circuitbreaker;

import io.remora.filters.rules.RuleConfig;
import io.remora.filters.rules.RuleScope;

/**
 * A circuit breaker rule. Over a sliding window of {@code window_s} seconds, once at least {@code min_requests} calls
 * completed: {@code error_ratio} opens when errors ÷ calls ≥ {@code error_ratio_threshold} (0–1); {@code avg_rt} opens
 * when the average response time ≥ {@code rt_threshold_ms}. Open for {@code open_duration_ms}, then one trial call.
 */
public record CircuitBreakerRule(RuleScope scope, boolean avgRt, int windowSeconds, long minRequests,
                                 double errorRatioThreshold, long rtThresholdMs, long openDurationMs)
        implements RuleConfig {

    public static final String KIND = "circuit_breaker";
}
