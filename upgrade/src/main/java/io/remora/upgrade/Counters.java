package io.remora.upgrade;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.remora.core.config.ConfigLoader;
import java.util.HashMap;
import java.util.Map;

/**
 * Carries the sidecar's cumulative counters across an upgrade so Prometheus never sees a reset: the old process sends
 * every {@link Counter} (name, tags, value) at takeover and the increments since then when it is done; the new one
 * adds them to its own counters once. Gauges are per process and histograms/timers restart (see README).
 */
final class Counters {

    private final Map<Meter.Id, Double> sent = new HashMap<>();

    /** All counters not yet sent, as increments since the last call. Called on one thread. */
    ArrayNode delta(MeterRegistry registry) {
        ArrayNode out = ConfigLoader.mapper().createArrayNode();
        for (Meter m : registry.getMeters()) {
            if (!(m instanceof Counter c)) {
                continue;
            }
            double now = c.count();
            double inc = now - sent.getOrDefault(c.getId(), 0.0);
            if (inc <= 0) {
                continue;
            }
            sent.put(c.getId(), now);
            ObjectNode o = out.addObject();
            o.put("name", c.getId().getName());
            ObjectNode tags = o.putObject("tags");
            for (Tag t : c.getId().getTagsAsIterable()) {
                tags.put(t.getKey(), t.getValue());
            }
            if (c.getId().getDescription() != null) {
                o.put("description", c.getId().getDescription());
            }
            if (c.getId().getBaseUnit() != null) {
                o.put("unit", c.getId().getBaseUnit());
            }
            o.put("value", inc);
        }
        return out;
    }

    /** Adds each increment to this process's counter of the same name and tags; returns how many were applied. */
    static int apply(MeterRegistry registry, JsonNode counters, Progress progress) {
        int n = 0;
        if (counters == null) {
            return 0;
        }
        for (JsonNode o : counters) {
            try {
                Counter.Builder b = Counter.builder(o.path("name").asText());
                o.path("tags").fields().forEachRemaining(e -> b.tag(e.getKey(), e.getValue().asText()));
                if (o.hasNonNull("description")) {
                    b.description(o.get("description").asText());
                }
                if (o.hasNonNull("unit")) {
                    b.baseUnit(o.get("unit").asText());
                }
                b.register(registry).increment(o.path("value").asDouble());
                n++;
            } catch (RuntimeException e) {
                progress.warn("counter {} not carried over: {}", o.path("name").asText(), e.getMessage());
            }
        }
        return n;
    }
}
