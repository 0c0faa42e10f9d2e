package io.remora.filters.ratelimit;

import com.fasterxml.jackson.databind.JsonNode;
import io.remora.core.config.ConfigException;
import io.remora.core.filter.FilterContext;
import io.remora.core.filter.StreamFilter;
import io.remora.core.filter.StreamFilterFactory;
import io.remora.filters.rules.Governance;

/** {@code "type": "rate_limit"}: applies the {@code rate_limit} rules whose direction matches the listener's. */
public final class RateLimitFilterFactory implements StreamFilterFactory {

    @Override
    public String type() {
        return RateLimitRule.KIND;
    }

    @Override
    public StreamFilter create(JsonNode config, FilterContext context) throws ConfigException {
        Governance.checkFilterConfig(config);
        return new RateLimitFilter(Governance.of(context.sidecar()), context.direction());
    }
}
