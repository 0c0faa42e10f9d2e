package io.remora.filters.circuitbreaker;

import com.fasterxml.jackson.databind.JsonNode;
import io.remora.core.config.ConfigException;
import io.remora.core.filter.FilterContext;
import io.remora.core.filter.StreamFilter;
import io.remora.core.filter.StreamFilterFactory;
import io.remora.filters.rules.Governance;

/** {@code "type": "circuit_breaker"}: applies the {@code circuit_breaker} rules of the listener's direction. */
public final class CircuitBreakerFilterFactory implements StreamFilterFactory {

    @Override
    public String type() {
        return CircuitBreakerRule.KIND;
    }

    @Override
    public StreamFilter create(JsonNode config, FilterContext context) throws ConfigException {
        Governance.checkFilterConfig(config);
        return new CircuitBreakerFilter(Governance.of(context.sidecar()), context.direction());
    }
}
