package io.remora.filters.fault;

import io.remora.core.config.ConfigException;
import io.remora.filters.rules.RuleReader;
import io.remora.filters.rules.RuleScope;

/**
 * A fault injection rule: for {@code percentage} (0–100, fractions allowed) of matching calls, {@code abort} answers at
 * once with the protocol's fault error (or with {@code abort_status}, a protocol-native status code, when given);
 * {@code delay} holds the call {@code delay_ms} and then forwards it normally.
 */
public record FaultRule(RuleScope scope, boolean abort, double percentage, int abortStatus, long delayMs) {

    public static final String KIND = "fault_inject";

    public static FaultRule parse(RuleReader r, RuleScope scope) throws ConfigException {
        boolean abort = r.choice("type", true, "abort", "delay").equals("abort");
        double pct = r.number("percentage", 100.0, 0, false, 100);
        int status = -1;
        long delay = 0;
        if (abort) {
            if (r.has("delay_ms")) {
                throw r.error("delay_ms", "applies to type delay only");
            }
            status = (int) r.integer("abort_status", -1L, 0, 65535);
            if (status == -1 && r.has("abort_status")) {
                throw r.error("abort_status", "must be >= 0");
            }
        } else {
            if (r.has("abort_status")) {
                throw r.error("abort_status", "applies to type abort only");
            }
            delay = r.integer("delay_ms", null, 1, 600_000);
        }
        return new FaultRule(scope, abort, pct, status, delay);
    }
}
