package io.remora.filters.auth;

import com.fasterxml.jackson.databind.JsonNode;
import io.remora.core.config.ConfigException;
import io.remora.core.filter.FilterContext;
import io.remora.core.filter.StreamFilter;
import io.remora.core.filter.StreamFilterFactory;
import io.remora.filters.rules.Governance;

/** {@code "type": "access_control"}: applies the {@code access_control} rules of the listener's direction. */
public final class AccessControlFilterFactory implements StreamFilterFactory {

    @Override
    public String type() {
        return AccessRule.KIND;
    }

    @Override
    public StreamFilter create(JsonNode config, FilterContext context) throws ConfigException {
        Governance.checkFilterConfig(config);
        return new AccessControlFilter(Governance.of(context.sidecar()), context.direction());
    }
}
