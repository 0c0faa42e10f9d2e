package io.remora.core.admin;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.LongTaskTimer;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.TimeGauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.CountAtBucket;
import io.micrometer.core.instrument.distribution.HistogramSnapshot;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * The registry's meters flattened once per admin request into what the MOSN and Envoy stat views print: a kind, a
 * value, and for timers a histogram snapshot. Reads meters only; never touches the request path.
 */
final class MeterView {

    enum Kind { COUNTER, GAUGE, HISTOGRAM }

    /** Envoy's supported quantiles, in order. */
    static final double[] QUANTILES = {0, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 0.999, 1};

    /**
     * One meter. {@code name} uses underscores (Micrometer's dots replaced), {@code tags} keep their order (sorted by
     * key); for a histogram, {@code value} is its count and {@code snapshot} holds the rest (durations in ms).
     */
    record Stat(String name, List<Tag> tags, Kind kind, double value, HistogramSnapshot snapshot, boolean timer) {

        /**
         * Envoy-style flat name: the meter name, then {@code .key.value} per tag, with what Envoy never has in a stat
         * name (spaces, colons, quotes ...) turned into {@code _}, as Envoy sanitizes {@code host:port}.
         */
        String flatName() {
            StringBuilder sb = new StringBuilder(name);
            for (Tag t : tags) {
                sb.append('.').append(sanitize(t.getKey())).append('.').append(sanitize(t.getValue()));
            }
            return sb.toString();
        }

        String tag(String key) {
            for (Tag t : tags) {
                if (t.getKey().equals(key)) {
                    return t.getValue();
                }
            }
            return null;
        }

        /** Envoy's "used": a counter that counted, a histogram that recorded; gauges always. */
        boolean used() {
            return kind == Kind.GAUGE || value > 0;
        }

        /**
         * Quantile {@code q} in ms (or the summary's unit) estimated from the cumulative buckets: the upper bound of
         * the first bucket holding that rank; the max for q = 1. NaN without data.
         */
        double quantile(double q) {
            if (snapshot == null || snapshot.count() == 0) {
                return Double.NaN;
            }
            double max = timer ? snapshot.max(TimeUnit.MILLISECONDS) : snapshot.max();
            if (q >= 1) {
                return max;
            }
            double rank = Math.max(1, Math.ceil(q * snapshot.count()));
            for (CountAtBucket b : snapshot.histogramCounts()) {
                if (b.count() >= rank) {
                    double bound = timer ? b.bucket(TimeUnit.MILLISECONDS) : b.bucket();
                    return Math.min(bound, max);
                }
            }
            return max;
        }

        double sum() {
            if (snapshot == null) {
                return 0;
            }
            return timer ? snapshot.total(TimeUnit.MILLISECONDS) : snapshot.total();
        }

        double max() {
            if (snapshot == null) {
                return 0;
            }
            return timer ? snapshot.max(TimeUnit.MILLISECONDS) : snapshot.max();
        }
    }

    private MeterView() {
    }

    static List<Stat> of(MeterRegistry registry) {
        List<Stat> out = new ArrayList<>();
        for (Meter m : registry.getMeters()) {
            String name = m.getId().getName().replace('.', '_');
            List<Tag> tags = new ArrayList<>(m.getId().getTags());
            tags.sort(Comparator.comparing(Tag::getKey));
            Stat s = stat(m, name, List.copyOf(tags));
            if (s != null) {
                out.add(s);
            }
        }
        out.sort(Comparator.comparing(Stat::flatName));
        return out;
    }

    private static Stat stat(Meter m, String name, List<Tag> tags) {
        if (m instanceof Counter c) {
            return new Stat(name, tags, Kind.COUNTER, c.count(), null, false);
        }
        if (m instanceof FunctionCounter c) {
            return new Stat(name, tags, Kind.COUNTER, c.count(), null, false);
        }
        if (m instanceof TimeGauge g) {
            return new Stat(name, tags, Kind.GAUGE, g.value(TimeUnit.MILLISECONDS), null, false);
        }
        if (m instanceof Gauge g) {
            return new Stat(name, tags, Kind.GAUGE, g.value(), null, false);
        }
        if (m instanceof Timer t) {
            HistogramSnapshot s = t.takeSnapshot();
            return new Stat(name, tags, Kind.HISTOGRAM, s.count(), s, true);
        }
        if (m instanceof DistributionSummary d) {
            HistogramSnapshot s = d.takeSnapshot();
            return new Stat(name, tags, Kind.HISTOGRAM, s.count(), s, false);
        }
        if (m instanceof FunctionTimer t) {
            return new Stat(name + "_count", tags, Kind.COUNTER, t.count(), null, false);
        }
        if (m instanceof LongTaskTimer t) {
            return new Stat(name + "_active", tags, Kind.GAUGE, t.activeTasks(), null, false);
        }
        return null;
    }

    static String sanitize(String part) {
        StringBuilder sb = new StringBuilder(part.length());
        for (int i = 0; i < part.length(); i++) {
            char c = part.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'
                    || c == '-' || c == '.';
            sb.append(ok ? c : '_');
        }
        return sb.toString();
    }

    /** An integer when the value is one, else up to six decimals; NaN and infinities as Envoy prints them. */
    static String number(double v) {
        if (Double.isNaN(v)) {
            return "nan";
        }
        if (Double.isInfinite(v)) {
            return v > 0 ? "inf" : "-inf";
        }
        if (v == Math.rint(v) && Math.abs(v) < 9.0e15) {
            return Long.toString((long) v);
        }
        String s = String.format(Locale.ROOT, "%.6f", v);
        s = s.replaceAll("0+$", "");
        return s.endsWith(".") ? s.substring(0, s.length() - 1) : s;
    }
}
