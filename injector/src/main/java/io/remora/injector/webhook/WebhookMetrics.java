package io.remora.injector.webhook;

import io.remora.injector.inject.InjectionConfigSource;
import io.remora.injector.inject.InjectionResult.SkipReason;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/** The webhook's counters, served as Prometheus text on {@code /metrics}; every label set is fixed in advance. */
final class WebhookMetrics {

    /** How an AdmissionReview was answered. */
    enum Result { INJECTED, SKIPPED, FAILED_ALLOWED, FAILED_DENIED, MALFORMED }

    private final Map<Result, LongAdder> reviews = new EnumMap<>(Result.class);
    private final Map<SkipReason, LongAdder> skips = new EnumMap<>(SkipReason.class);
    private final LongAdder nanos = new LongAdder();
    private final LongAdder timed = new LongAdder();

    WebhookMetrics() {
        for (Result r : Result.values()) reviews.put(r, new LongAdder());
        for (SkipReason r : SkipReason.values()) skips.put(r, new LongAdder());
    }

    void review(Result result, long elapsedNanos) {
        reviews.get(result).increment();
        nanos.add(elapsedNanos);
        timed.increment();
    }

    void skipped(SkipReason reason) {
        skips.get(reason).increment();
    }

    long count(Result result) {
        return reviews.get(result).sum();
    }

    String prometheus(InjectionConfigSource config, String certNotAfter) {
        StringBuilder sb = new StringBuilder(2048);
        sb.append("# HELP remora_injector_reviews_total AdmissionReviews answered, by result.\n");
        sb.append("# TYPE remora_injector_reviews_total counter\n");
        reviews.forEach((r, n) -> sb.append("remora_injector_reviews_total{result=\"").append(label(r)).append("\"} ")
                .append(n.sum()).append('\n'));
        sb.append("# HELP remora_injector_skips_total Pods left without a sidecar, by reason.\n");
        sb.append("# TYPE remora_injector_skips_total counter\n");
        skips.forEach((r, n) -> sb.append("remora_injector_skips_total{reason=\"").append(label(r)).append("\"} ")
                .append(n.sum()).append('\n'));
        sb.append("# HELP remora_injector_review_seconds Time to answer an AdmissionReview.\n");
        sb.append("# TYPE remora_injector_review_seconds summary\n");
        sb.append("remora_injector_review_seconds_sum ").append(nanos.sum() / 1e9).append('\n');
        sb.append("remora_injector_review_seconds_count ").append(timed.sum()).append('\n');
        sb.append("# HELP remora_injector_config_reloads_total Injection config reloads from the ConfigMap files.\n");
        sb.append("# TYPE remora_injector_config_reloads_total counter\n");
        sb.append("remora_injector_config_reloads_total{result=\"ok\"} ").append(config.reloads()).append('\n');
        sb.append("remora_injector_config_reloads_total{result=\"failed\"} ").append(config.failedReloads())
                .append('\n');
        sb.append("# HELP remora_injector_config_info The injection config serving now (version label), 1.\n");
        sb.append("# TYPE remora_injector_config_info gauge\n");
        sb.append("remora_injector_config_info{version=\"").append(config.get().version()).append("\"} 1\n");
        if (certNotAfter != null) {
            sb.append("# HELP remora_injector_certificate_expiry_seconds When the serving certificate expires")
                    .append(" (Unix time).\n");
            sb.append("# TYPE remora_injector_certificate_expiry_seconds gauge\n");
            sb.append("remora_injector_certificate_expiry_seconds ").append(certNotAfter).append('\n');
        }
        return sb.toString();
    }

    private static String label(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }
}
