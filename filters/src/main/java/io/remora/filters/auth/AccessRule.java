package io.remora.filters.auth;

import io.remora.filters.rules.RuleConfig;
import io.remora.filters.rules.RuleScope;

/**
 * An access control rule for a service (and optionally a method). Its conditions describe callers: a
 * {@code whitelist} admits the callers it matches and denies everyone else; a {@code blacklist} denies the callers it
 * matches. With several rules for the same call: any matching blacklist denies; if there are whitelists, the caller
 * must match at least one of them.
 */
public record AccessRule(RuleScope scope, boolean whitelist) implements RuleConfig {

    public static final String KIND = "access_control";
}
