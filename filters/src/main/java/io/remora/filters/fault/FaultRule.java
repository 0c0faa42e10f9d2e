package io.remora.filters.fault;

import io.remora.filters.rules.RuleConfig;
import io.remora.filters.rules.RuleScope;

/**
 * A fault injection rule: for {@code percentage} (0–100, fractions allowed) of matching calls, {@code abort} answers at
 * once with the protocol's fault error (or with {@code abort_status}, a protocol-native status code, when given);
 * {@code delay} holds the call {@code delay_ms} and then forwards it normally.
 */
public record FaultRule(RuleScope scope, boolean abort, double percentage, int abortStatus, long delayMs)
        implements RuleConfig {

    public static final String KIND = "fault_inject";
}
