package io.remora.bench;

import io.remora.core.cluster.Cluster;
import io.remora.core.cluster.Host;
import io.remora.core.cluster.HostSet;
import io.remora.core.config.ConfigSnapshot;
import io.remora.core.config.SidecarConfig;
import io.remora.core.router.Route;
import io.remora.core.router.RouteTable;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Route match plus host pick per request, at the sizes the product names (thousands of rules, tens of thousands of
 * hosts) against a tiny config: the cost must not grow with size.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class RouteAndPickBenchmark {

    @Param({"10", "5000"})
    int routes;

    @Param({"10", "50000"})
    int hosts;

    private RouteTable table;
    private ConfigSnapshot snapshot;
    private Fixtures.Request[] requests;
    private int next;

    @Setup
    public void setUp() throws Exception {
        SidecarConfig cfg = Fixtures.config(routes, hosts);
        snapshot = Fixtures.compile(cfg);
        table = RouteTable.compile("routes", cfg.routeConfigs().get(0).routes(), "route_configs[0].routes");
        requests = new Fixtures.Request[1024];
        for (int i = 0; i < requests.length; i++) {
            requests[i] = new Fixtures.Request(Fixtures.service((i * 7919) % routes), "sayHello");
        }
    }

    /** Route match, label-routing group selection (precomputed subsets), then the host pick. */
    @Benchmark
    public Host routeLabelAndPick() {
        Fixtures.Request r = requests[next++ & 1023];
        Route route = table.match(r);
        Cluster c = snapshot.cluster(route.pickCluster());
        HostSet set = snapshot.hostSelector().select(new BenchContext(r), c);
        return (set == null ? c.hostSet() : set).choose(System.nanoTime());
    }

    @Benchmark
    public Host routeAndPick() {
        Fixtures.Request r = requests[next++ & 1023];
        Route route = table.match(r);
        Cluster c = snapshot.cluster(route.pickCluster());
        return c.choose(System.nanoTime());
    }
}
