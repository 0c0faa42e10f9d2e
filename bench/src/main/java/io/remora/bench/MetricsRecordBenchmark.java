package io.remora.bench;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.remora.core.metrics.ClusterMetrics;
import io.remora.core.metrics.ListenerMetrics;
import io.remora.core.metrics.ProxyMetrics;
import io.remora.core.protocol.ResponseClass;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/** What the request path pays to record one proxied call in the Prometheus meters. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class MetricsRecordBenchmark {

    private ListenerMetrics listener;
    private ClusterMetrics cluster;
    private String[] services;
    private int next;

    @Setup
    public void setUp() {
        ProxyMetrics m = new ProxyMetrics(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), 1000);
        listener = m.listener("egress_bolt", "bolt");
        cluster = m.cluster("hello");
        services = new String[64];
        for (int i = 0; i < services.length; i++) {
            services[i] = Fixtures.service(i);
            listener.request(services[i], "sayHello", ResponseClass.OK, 1, 1, 1);
        }
    }

    @Benchmark
    public void recordOneCall() {
        String s = services[next++ & 63];
        cluster.requestSent();
        cluster.requestDone(180_000);
        listener.request(s, "sayHello", ResponseClass.OK, 1024, 512, 250_000);
    }
}
