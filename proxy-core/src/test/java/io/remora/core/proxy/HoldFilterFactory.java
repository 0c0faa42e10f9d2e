package io.remora.core.proxy;

import com.fasterxml.jackson.databind.JsonNode;
import io.remora.core.filter.FilterContext;
import io.remora.core.filter.FilterStatus;
import io.remora.core.filter.RequestContext;
import io.remora.core.filter.StreamFilter;
import io.remora.core.filter.StreamFilterFactory;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

/** Test filter "test_hold": pauses requests for method "hold" and hands their context to the test; records every one. */
public final class HoldFilterFactory implements StreamFilterFactory {

    static final BlockingQueue<RequestContext> HELD = new LinkedBlockingQueue<>();
    static final BlockingQueue<RequestContext> SEEN = new LinkedBlockingQueue<>();

    @Override
    public String type() {
        return "test_hold";
    }

    @Override
    public StreamFilter create(JsonNode config, FilterContext context) {
        return ctx -> {
            SEEN.add(ctx);
            if ("hold".equals(ctx.request().method())) {
                HELD.add(ctx);
                return FilterStatus.PAUSE;
            }
            return FilterStatus.CONTINUE;
        };
    }
}
