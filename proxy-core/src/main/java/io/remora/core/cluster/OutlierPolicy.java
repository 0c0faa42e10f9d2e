package io.remora.core.cluster;

/**
 * Fault isolation (outlier ejection) of a cluster's hosts. A host with at least {@code minRequests} calls in the last
 * {@code windowSeconds} whose error ratio exceeds {@code errorRatioPercent} x {@code thresholdMultiple} is isolated,
 * worst first, at most {@code maxIsolated} at once and never every host. Isolation lasts
 * {@code baseIsolationMillis} x (times isolated), capped at {@code maxIsolationMillis}. {@code monitorOnly}: log what
 * would be isolated, change nothing.
 */
public record OutlierPolicy(int windowSeconds, int minRequests, double errorRatioPercent, double thresholdMultiple,
                            int maxIsolated, long baseIsolationMillis, long maxIsolationMillis, boolean monitorOnly) {

    /** The error ratio (0..1) a host must exceed to be isolated. */
    public double limit() {
        return errorRatioPercent / 100.0 * thresholdMultiple;
    }
}
