package io.remora.filters.ratelimit;

/** Access for the rule registry to what smallest-wins compares. */
public final class RateLimiters {

    private RateLimiters() {
    }

    public static String groupKey(RateLimiter r) {
        return r.rule().groupKey();
    }

    public static double limit(RateLimiter r) {
        return r.rule().limit();
    }
}
