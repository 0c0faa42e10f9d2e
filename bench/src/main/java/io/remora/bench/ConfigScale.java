package io.remora.bench;

import io.remora.core.config.ConfigSnapshot;
import io.remora.core.config.SidecarConfig;

/**
 * Prints how long compiling a config of 5,000 routes and 50,000 hosts takes (the product's scale facts), after a
 * warm-up compile. {@code java -cp ... io.remora.bench.ConfigScale [routes] [hosts]}
 */
public final class ConfigScale {

    private ConfigScale() {
    }

    public static void main(String[] args) throws Exception {
        int routes = args.length > 0 ? Integer.parseInt(args[0]) : 5000;
        int hosts = args.length > 1 ? Integer.parseInt(args[1]) : 50_000;
        SidecarConfig cfg = Fixtures.config(routes, hosts);
        long cold0 = System.nanoTime();
        Fixtures.compile(cfg);
        long cold = System.nanoTime() - cold0;
        long best = Long.MAX_VALUE;
        ConfigSnapshot s = null;
        for (int i = 0; i < 5; i++) {
            long t0 = System.nanoTime();
            s = Fixtures.compile(cfg);
            best = Math.min(best, System.nanoTime() - t0);
        }
        System.out.printf("config with %d routes and %d hosts (%d clusters): first compile %.1f ms, best warm %.1f ms%n",
                routes, hosts, s.clusters().size(), cold / 1e6, best / 1e6);
    }
}
