package io.remora.core.router;

import io.remora.core.config.ConfigException;
import io.remora.core.config.SidecarConfig;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A compiled per-route retry policy. A request that may have reached the provider (reset after sending, timeout,
 * error response) is retried only on an idempotent route; a connect failure or an overflow never reached it.
 */
public final class RetryPolicy {

    public static final int CONNECT_FAILURE = 1;
    public static final int RESET = 2;
    public static final int TIMEOUT = 4;
    public static final int RETRIABLE_STATUS = 8;

    private final int numRetries;
    private final int retryOn;
    private final boolean idempotent;
    private final long perTryTimeoutMillis;
    private final long backoffBaseMillis;
    private final long backoffMaxMillis;

    RetryPolicy(int numRetries, int retryOn, boolean idempotent, long perTryTimeoutMillis, long backoffBaseMillis,
                long backoffMaxMillis) {
        this.numRetries = numRetries;
        this.retryOn = retryOn;
        this.idempotent = idempotent;
        this.perTryTimeoutMillis = perTryTimeoutMillis;
        this.backoffBaseMillis = backoffBaseMillis;
        this.backoffMaxMillis = backoffMaxMillis;
    }

    public int numRetries() {
        return numRetries;
    }

    /** 0 = each try may use the whole remaining route timeout. */
    public long perTryTimeoutMillis() {
        return perTryTimeoutMillis;
    }

    /**
     * True if a failure of kind {@code cause} (one of the constants) may be retried; {@code maySent} = the request
     * may have reached the provider.
     */
    public boolean retries(int cause, boolean maySent) {
        return (retryOn & cause) != 0 && (!maySent || idempotent);
    }

    /** Full-jitter backoff before retry {@code n} (1-based), in ms. */
    public long backoffMillis(int n) {
        if (backoffBaseMillis <= 0) {
            return 0;
        }
        long cap = Math.min(backoffMaxMillis, backoffBaseMillis << Math.min(20, n - 1));
        return ThreadLocalRandom.current().nextLong(cap + 1);
    }

    static RetryPolicy compile(SidecarConfig.RetryPolicy r, String p) throws ConfigException {
        if (r == null) {
            return null;
        }
        int n = r.numRetries() == null ? 1 : r.numRetries();
        if (n < 0 || n > 10) {
            throw new ConfigException(p + ".num_retries", "must be between 0 and 10, was " + n);
        }
        List<String> on = r.retryOn() == null ? List.of("connect_failure") : r.retryOn();
        int mask = 0;
        for (int i = 0; i < on.size(); i++) {
            mask |= switch (String.valueOf(on.get(i))) {
                case "connect_failure" -> CONNECT_FAILURE;
                case "reset" -> RESET;
                case "timeout" -> TIMEOUT;
                case "retriable_status" -> RETRIABLE_STATUS;
                default -> throw new ConfigException(p + ".retry_on[" + i + "]", "unknown \"" + on.get(i)
                        + "\" (one of connect_failure, reset, timeout, retriable_status)");
            };
        }
        long perTry = r.perTryTimeoutMs() == null ? 0 : r.perTryTimeoutMs();
        if (perTry < 0) {
            throw new ConfigException(p + ".per_try_timeout_ms", "must be >= 0, was " + perTry);
        }
        if ((mask & TIMEOUT) != 0 && perTry == 0) {
            throw new ConfigException(p + ".per_try_timeout_ms", "is required when retry_on has \"timeout\"");
        }
        long base = r.backoffBaseMs() == null ? 25 : r.backoffBaseMs();
        long max = r.backoffMaxMs() == null ? Math.max(base, 250) : r.backoffMaxMs();
        if (base < 0 || max < base) {
            throw new ConfigException(p + ".backoff_base_ms", "must be >= 0 and <= backoff_max_ms, was " + base);
        }
        return new RetryPolicy(n, mask, Boolean.TRUE.equals(r.idempotent()), perTry, base, max);
    }
}
