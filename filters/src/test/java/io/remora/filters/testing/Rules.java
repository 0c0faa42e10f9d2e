package io.remora.filters.testing;

import com.fasterxml.jackson.databind.JsonNode;
import io.remora.core.config.ConfigLoader;
import io.remora.filters.rules.Governance;
import io.remora.filters.rules.GovernanceRules;
import io.remora.filters.rules.RuleParser;
import java.util.concurrent.atomic.AtomicLong;

/** Builds a governance with a hand-driven clock and random source, and publishes rule JSON into it. */
public final class Rules {

    public final AtomicLong nanos = new AtomicLong(1_000_000_000L);
    public double nextRandom = 0.0;
    public final Governance governance = Governance.create(null, nanos::get, () -> nextRandom);

    public Rules publish(String governanceJson) {
        return publish(governanceJson, null);
    }

    public Rules publish(String governanceJson, String localApp) {
        try {
            JsonNode n = ConfigLoader.mapper().readTree(governanceJson);
            GovernanceRules r = RuleParser.parse(governance.kinds(), n, RuleParser.BASE_PATH);
            governance.publish(r, localApp);
            return this;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    public void advanceMillis(long ms) {
        nanos.addAndGet(ms * 1_000_000L);
    }

    /** A rule JSON object with the common fields filled in; {@code extra} is more JSON fields (no braces). */
    public static String rule(String name, String service, String extra) {
        return "{\"name\":\"" + name + "\",\"direction\":\"client\",\"service\":\"" + service + "\""
                + (extra.isEmpty() ? "" : "," + extra) + "}";
    }
}
