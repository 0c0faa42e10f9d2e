package io.remora.core.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.SingleThreadEventExecutor;
import io.netty.util.internal.PlatformDependent;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Process, JVM and Netty meters: open fds, RSS and virtual memory (from /proc), heap and non-heap, GC pauses,
 * threads, direct and pooled buffer memory, and each event loop's pending tasks.
 */
public final class ProcessMetrics {

    private ProcessMetrics() {
    }

    public static void bind(MeterRegistry r, EventLoopGroup workers) {
        // Names promtool rejects (abbreviated unit, gauge named _count); process_cpu_seconds_total replaces the first.
        r.config().meterFilter(io.micrometer.core.instrument.config.MeterFilter.deny(id ->
                id.getName().equals("process.cpu.time") || id.getName().equals("system.cpu.count")));
        if (java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                instanceof com.sun.management.OperatingSystemMXBean os) {
            io.micrometer.core.instrument.FunctionCounter.builder("process.cpu", os,
                            o -> o.getProcessCpuTime() / 1e9)
                    .baseUnit("seconds").description("CPU time used by the process").register(r);
        }
        new JvmMemoryMetrics().bindTo(r);
        new JvmGcMetrics().bindTo(r);
        new JvmThreadMetrics().bindTo(r);
        new ClassLoaderMetrics().bindTo(r);
        new ProcessorMetrics().bindTo(r);
        new FileDescriptorMetrics().bindTo(r);
        new UptimeMetrics().bindTo(r);
        Gauge.builder("process_resident_memory_bytes", () -> procStatus("VmRSS:"))
                .description("Resident set size").register(r);
        Gauge.builder("process_virtual_memory_bytes", () -> procStatus("VmSize:"))
                .description("Virtual memory size").register(r);
        Gauge.builder("remora_netty_direct_memory_used_bytes", PlatformDependent::usedDirectMemory)
                .description("Direct memory Netty has reserved (-1 if not tracked)").register(r);
        Gauge.builder("remora_netty_pooled_direct_memory_bytes",
                        () -> PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory())
                .description("Direct memory held by Netty's pooled allocator").register(r);
        Gauge.builder("remora_netty_pooled_heap_memory_bytes",
                        () -> PooledByteBufAllocator.DEFAULT.metric().usedHeapMemory())
                .description("Heap memory held by Netty's pooled allocator").register(r);
        int i = 0;
        for (EventExecutor e : workers) {
            if (e instanceof SingleThreadEventExecutor loop) {
                Gauge.builder("remora_event_loop_pending_tasks", loop, SingleThreadEventExecutor::pendingTasks)
                        .description("Tasks queued on an event loop").tag("loop", Integer.toString(i++))
                        .register(r);
            }
        }
    }

    /** A {@code kB} value of /proc/self/status in bytes, or NaN where /proc is missing. */
    static double procStatus(String key) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(key)) {
                    String[] parts = line.substring(key.length()).trim().split("\\s+");
                    return Long.parseLong(parts[0]) * 1024.0;
                }
            }
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
        return Double.NaN;
    }
}
