package io.remora.filters.fault;

import com.fasterxml.jackson.databind.JsonNode;
import io.remora.core.config.ConfigException;
import io.remora.core.filter.FilterContext;
import io.remora.core.filter.StreamFilter;
import io.remora.core.filter.StreamFilterFactory;
import io.remora.filters.rules.Governance;

/** {@code "type": "fault_inject"}: applies the {@code fault_inject} rules of the listener's direction. */
public final class FaultInjectFilterFactory implements StreamFilterFactory {

    @Override
    public String type() {
        return FaultRule.KIND;
    }

    @Override
    public StreamFilter create(JsonNode config, FilterContext context) throws ConfigException {
        Governance.checkFilterConfig(config);
        return new FaultInjectFilter(Governance.of(context.sidecar()), context.direction());
    }
}
