package io.remora.core.limits;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.buffer.PoolArenaMetric;
import io.netty.buffer.PoolChunkListMetric;
import io.netty.buffer.PoolChunkMetric;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.internal.PlatformDependent;
import io.remora.core.config.ConfigException;
import io.remora.core.config.SidecarConfig;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Envoy's overload manager for a JVM: samples heap (the old generation as the last collection left it, i.e. live
 * data, not garbage) and direct memory (the bytes of Netty's buffers in use plus the JDK's; memory the pooled
 * allocator keeps for reuse is not pressure) every {@code check_interval_ms} on its own thread; past either threshold
 * the sidecar is <em>overloaded</em>: new requests, on every connection, are answered at once with the protocol's
 * overload error (Bolt SERVER_THREADPOOL_BUSY, Dubbo 100, HTTP 503, gRPC UNAVAILABLE) — before the JVM would ever
 * reach an OutOfMemoryError — and, with {@code stop_accepting}, listeners stop accepting (connections wait in the
 * kernel's backlog). Below {@link #RECOVER_FRACTION} of the thresholds it recovers. Requests read
 * {@link #overloaded()} (one volatile read); transitions log once each.
 */
public final class OverloadManager implements AutoCloseable {

    private static final Logger fallback = LoggerFactory.getLogger("io.remora.limits");
    /** Recover only below this fraction of a threshold, so a process near it does not flap. */
    static final double RECOVER_FRACTION = 0.95;

    /** Where the samples come from (the JVM; tests substitute their own). */
    interface Pressure {
        /** Percent of the heap limit that live data uses (after the last collection). */
        double heapPercent();

        /** Percent of the direct memory limit in use. */
        double directPercent();
    }

    private final double heapThreshold;
    private final double directThreshold;
    private final long intervalMillis;
    private final Pressure pressure;
    private final Consumer<Boolean> onChange;
    private final boolean stopAccepting;
    private final ScheduledExecutorService timer;
    private final Logger log;
    private final Counter shed;
    private volatile boolean overloaded;
    private volatile double heap;
    private volatile double direct;

    /**
     * @param onChange called (on the overload thread) with true when the sidecar becomes overloaded and false when it
     *                 recovers: pause and resume accepting
     */
    public OverloadManager(Config config, MeterRegistry registry, Consumer<Boolean> onChange, Logger log) {
        this(config, registry, onChange, new JvmPressure(), log);
    }

    OverloadManager(Config config, MeterRegistry registry, Consumer<Boolean> onChange, Pressure pressure) {
        this(config, registry, onChange, pressure, fallback);
    }

    private OverloadManager(Config config, MeterRegistry registry, Consumer<Boolean> onChange, Pressure pressure,
                            Logger log) {
        this.log = log;
        this.heapThreshold = config.heapPercent();
        this.directThreshold = config.directPercent();
        this.intervalMillis = config.checkIntervalMillis();
        this.pressure = pressure;
        this.onChange = onChange;
        this.stopAccepting = config.stopAccepting();
        this.shed = Counter.builder("remora.overload.shed.requests")
                .description("requests answered with the overload error while the sidecar was overloaded")
                .register(registry);
        Gauge.builder("remora.overload.active", this, m -> m.overloaded ? 1 : 0)
                .description("1 while the sidecar is overloaded (shedding new requests)")
                .register(registry);
        Gauge.builder("remora.overload.pressure.percent", this, m -> m.heap).tag("resource", "heap")
                .description("percent of the limit in use: heap = live old generation after the last GC")
                .register(registry);
        Gauge.builder("remora.overload.pressure.percent", this, m -> m.direct).tag("resource", "direct")
                .description("percent of the limit in use: heap = live old generation after the last GC")
                .register(registry);
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "remora-overload");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(this::check, intervalMillis, intervalMillis, TimeUnit.MILLISECONDS);
    }

    /**
     * The compiled {@code overload} section.
     *
     * @param stopAccepting also stop accepting connections while overloaded (default false: a caller that connects
     *                      meanwhile gets the overload error at once instead of waiting in the kernel's backlog
     *                      until its connect times out)
     */
    public record Config(double heapPercent, double directPercent, long checkIntervalMillis, boolean stopAccepting) {

        public static final Config DEFAULTS = new Config(95, 95, 250, false);

        public Config(double heapPercent, double directPercent, long checkIntervalMillis) {
            this(heapPercent, directPercent, checkIntervalMillis, false);
        }

        public static Config compile(SidecarConfig.Overload c) throws ConfigException {
            if (c == null) {
                return DEFAULTS;
            }
            double heap = percent(c.heapPercent(), DEFAULTS.heapPercent, "overload.heap_percent");
            double direct = percent(c.directPercent(), DEFAULTS.directPercent, "overload.direct_percent");
            long interval = c.checkIntervalMs() == null ? DEFAULTS.checkIntervalMillis : c.checkIntervalMs();
            if (interval < 10 || interval > 60_000) {
                throw new ConfigException("overload.check_interval_ms", "must be between 10 and 60000, was "
                        + interval);
            }
            return new Config(heap, direct, interval, Boolean.TRUE.equals(c.stopAccepting()));
        }

        private static double percent(Double v, double dflt, String path) throws ConfigException {
            if (v == null) {
                return dflt;
            }
            if (!(v > 0 && v <= 100)) {
                throw new ConfigException(path, "must be a percentage above 0 and at most 100, was " + v);
            }
            return v;
        }
    }

    /** True while the sidecar sheds new work. */
    public boolean overloaded() {
        return overloaded;
    }

    /** Counts a request answered with the overload error. */
    public void requestShed() {
        shed.increment();
    }

    /** The current reading, for error messages and logs: {@code heap 96.1% (limit 95%), direct 12.0% (limit 95%)}. */
    public String describe() {
        return String.format(Locale.ROOT, "heap %.1f%% (limit %.0f%%), direct %.1f%% (limit %.0f%%)", heap,
                heapThreshold, direct, directThreshold);
    }

    /** One sample and, if it crossed a threshold, the transition. Package-private for tests. */
    void check() {
        try {
            heap = pressure.heapPercent();
            direct = pressure.directPercent();
            boolean over = heap >= heapThreshold || direct >= directThreshold;
            boolean recovered = heap < heapThreshold * RECOVER_FRACTION && direct < directThreshold * RECOVER_FRACTION;
            if (!overloaded && over) {
                overloaded = true;
                log.warn("overloaded: {}: answering new requests with the overload error{}", describe(),
                        stopAccepting ? ", not accepting connections" : "");
                onChange.accept(true);
            } else if (overloaded && recovered) {
                overloaded = false;
                log.warn("recovered from overload: {}{}", describe(), stopAccepting ? ": accepting again" : "");
                onChange.accept(false);
            }
        } catch (RuntimeException e) {
            log.error("overload check failed: {}", e.toString());
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }

    /** The JVM's own numbers. */
    static final class JvmPressure implements Pressure {
        private final List<MemoryPoolMXBean> oldGen;
        private final BufferPoolMXBean jdkDirect;

        JvmPressure() {
            List<MemoryPoolMXBean> heapPools = ManagementFactory.getMemoryPoolMXBeans().stream()
                    .filter(p -> p.getType() == MemoryType.HEAP && p.isCollectionUsageThresholdSupported()).toList();
            List<MemoryPoolMXBean> old = heapPools.stream().filter(p -> {
                String n = p.getName().toLowerCase(Locale.ROOT);
                return n.contains("old") || n.contains("tenured");
            }).toList();
            this.oldGen = old.isEmpty() ? heapPools : old;
            this.jdkDirect = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                    .filter(b -> b.getName().equals("direct")).findFirst().orElse(null);
        }

        @Override
        public double heapPercent() {
            long used = 0;
            long max = 0;
            for (MemoryPoolMXBean p : oldGen) {
                MemoryUsage after = p.getCollectionUsage();
                MemoryUsage now = p.getUsage();
                long limit = now.getMax() > 0 ? now.getMax() : now.getCommitted();
                used += after == null ? now.getUsed() : after.getUsed();
                max += limit;
            }
            return max <= 0 ? 0 : 100.0 * used / max;
        }

        @Override
        public double directPercent() {
            long max = PlatformDependent.maxDirectMemory();
            long jdk = jdkDirect == null ? 0 : Math.max(0, jdkDirect.getMemoryUsed());
            // Without java.nio opened to it (the launcher does not), Netty allocates through ByteBuffer.allocateDirect:
            // its buffers are then in the JDK's figure already, and Netty's own counter counts the same bytes again.
            long netty = PlatformDependent.useDirectBufferNoCleaner() ? Math.max(0, PlatformDependent.usedDirectMemory())
                    : 0;
            return max <= 0 ? 0 : 100.0 * Math.max(0, netty + jdk - pooledFree()) / max;
        }

        /**
         * Direct memory Netty's pooled allocator holds free in its chunks (counted in Netty's or the JDK's figure,
         * whichever backs its chunks). The pool keeps chunks after a burst (for reuse, and those below a quarter used
         * for good), so counting the reservation would keep a sidecar overloaded long after the burst's buffers were
         * released, shedding every request while nothing is in use; free space in a chunk is reused before new
         * memory is reserved, so it is not pressure.
         */
        static long pooledFree() {
            long free = 0;
            for (PoolArenaMetric arena : PooledByteBufAllocator.DEFAULT.metric().directArenas()) {
                for (PoolChunkListMetric list : arena.chunkLists()) {
                    for (PoolChunkMetric chunk : list) {
                        free += chunk.freeBytes();
                    }
                }
            }
            return free;
        }
    }
}
