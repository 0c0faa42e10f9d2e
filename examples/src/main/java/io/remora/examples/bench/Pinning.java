package io.remora.examples.bench;

import java.util.List;

/**
 * CPU pinning for the proxies under test. {@code bench/run.sh --pin} runs the suite (its load generators and
 * providers, and the processes it spawns) on one set of CPUs and sets {@code BENCH_PROXY_CPUS} to the others: the
 * sidecar and the peer proxies (nginx, haproxy) are started on those, so a proxy never competes with the load it
 * measures, and "direct" and "via a proxy" get the same CPUs for the client and the provider.
 */
final class Pinning {

    private static final String CPUS = System.getenv("BENCH_PROXY_CPUS");

    private Pinning() {
    }

    /** {@code taskset -c <cpus>} to put before a proxy's command line, or nothing when not pinning. */
    static List<String> proxyPrefix() {
        return CPUS == null || CPUS.isBlank() ? List.of() : List.of("taskset", "-c", CPUS.trim());
    }

    /** For the report. */
    static String describe() {
        return CPUS == null || CPUS.isBlank() ? "off (every process on every CPU)"
                : "proxies on CPU " + CPUS.trim() + ", load generators and providers on the others";
    }
}
