package io.remora.filters.circuitbreaker;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.remora.filters.rules.ActiveRule;
import io.remora.filters.rules.RuleScope;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * A circuit breaker rule and its breakers: one per service and method the rule covers (client side: the called
 * service/method; server side: the provided one). A rule naming one service and one method has exactly one breaker.
 * Bounded: past {@value #MAX_BREAKERS} keys, further ones share one overflow breaker.
 */
public final class BreakerGroup extends ActiveRule<CircuitBreakerRule> {

    static final int MAX_BREAKERS = 10_000;

    private final LongSupplier ticker;
    private final CircuitBreaker single;
    private final ConcurrentHashMap<String, ConcurrentHashMap<String, CircuitBreaker>> byService;
    private final AtomicInteger count = new AtomicInteger();
    private final CircuitBreaker overflow;

    BreakerGroup(CircuitBreakerKind kind, CircuitBreakerRule rule, LongSupplier ticker) {
        super(kind, rule);
        this.ticker = ticker;
        RuleScope s = rule.scope();
        boolean one = !RuleScope.ANY.equals(s.service()) && !RuleScope.ANY.equals(s.method());
        this.single = one ? new CircuitBreaker(this, s.service() + "#" + s.method(), ticker) : null;
        this.byService = one ? null : new ConcurrentHashMap<>();
        this.overflow = one ? null : new CircuitBreaker(this, "(overflow)", ticker);
    }

    CircuitBreaker breakerFor(String service, String method) {
        if (single != null) {
            return single;
        }
        String sv = service == null ? "" : service;
        String m = method == null ? "" : method;
        ConcurrentHashMap<String, CircuitBreaker> methods = byService.get(sv);
        if (methods != null) {
            CircuitBreaker b = methods.get(m);
            if (b != null) {
                return b;
            }
        }
        if (count.get() >= MAX_BREAKERS) {
            return overflow;
        }
        CircuitBreaker b = byService.computeIfAbsent(sv, k -> new ConcurrentHashMap<>())
                .computeIfAbsent(m, k -> {
                    count.incrementAndGet();
                    return new CircuitBreaker(this, sv + "#" + m, ticker);
                });
        return b;
    }

    /** How many of this rule's breakers are not closed. */
    public int openCount() {
        if (single != null) {
            return single.phase() == CircuitBreaker.Phase.CLOSED ? 0 : 1;
        }
        int n = overflow.phase() == CircuitBreaker.Phase.CLOSED ? 0 : 1;
        for (var methods : byService.values()) {
            for (CircuitBreaker b : methods.values()) {
                if (b.phase() != CircuitBreaker.Phase.CLOSED) {
                    n++;
                }
            }
        }
        return n;
    }

    @Override
    public void describeState(ObjectNode out) {
        ArrayNode list = out.putArray("breakers");
        if (single != null) {
            list.addObject().put("key", single.key()).put("state", single.phase().name().toLowerCase());
            return;
        }
        for (var methods : byService.values()) {
            for (CircuitBreaker b : methods.values()) {
                list.addObject().put("key", b.key()).put("state", b.phase().name().toLowerCase());
            }
        }
    }
}
