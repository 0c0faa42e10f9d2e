package io.remora.examples.bench;

import com.sun.tools.attach.VirtualMachine;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.management.MBeanServerConnection;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

/**
 * Reads a process's CPU time and resident memory from /proc, and for a JVM (the sidecar) the exact bytes its threads
 * allocated ({@code com.sun.management.ThreadMXBean#getThreadAllocatedBytes}, TLAB-exact, not sampled) over a local
 * JMX connection opened with the Attach API, so the sidecar needs no flag or endpoint for it.
 */
final class Probe implements AutoCloseable {

    private static final double TICKS_PER_SECOND = 100; // USER_HZ on Linux

    private final long pid;
    private JMXConnector jmx;
    private com.sun.management.ThreadMXBean threads;

    Probe(long pid) {
        this.pid = pid;
    }

    /** Attaches to a JVM for allocation counts; without it {@link #allocatedBytes()} is -1. */
    Probe attachJvm() {
        try {
            VirtualMachine vm = VirtualMachine.attach(Long.toString(pid));
            String url;
            try {
                url = vm.startLocalManagementAgent();
            } finally {
                vm.detach();
            }
            jmx = JMXConnectorFactory.connect(new JMXServiceURL(url));
            MBeanServerConnection c = jmx.getMBeanServerConnection();
            threads = ManagementFactory.newPlatformMXBeanProxy(c, ManagementFactory.THREAD_MXBEAN_NAME,
                    com.sun.management.ThreadMXBean.class);
        } catch (Exception e) {
            System.err.println("bench: no allocation counts for pid " + pid + ": " + e);
        }
        return this;
    }

    long pid() {
        return pid;
    }

    /** utime + stime in microseconds, or -1. */
    long cpuMicros() {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            // fields 14 and 15 of stat; f[0] is field 3
            return (long) ((Long.parseLong(f[11]) + Long.parseLong(f[12])) * 1e6 / TICKS_PER_SECOND);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** VmRSS, VmHWM in kB, or -1. */
    long[] memoryKb() {
        long rss = -1;
        long hwm = -1;
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    rss = Long.parseLong(line.replaceAll("[^0-9]", ""));
                } else if (line.startsWith("VmHWM:")) {
                    hwm = Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException e) {
            // gone
        }
        return new long[] {rss, hwm};
    }

    long openFds() {
        try (var s = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
            return s.count();
        } catch (IOException e) {
            return -1;
        }
    }

    /**
     * Bytes allocated so far by the JVM's live threads, leaving out the JMX/RMI threads serving this probe: all of
     * them, and the event loops ({@code remora-worker-*}) alone.
     */
    long[] allocatedBytes() {
        if (threads == null) {
            return new long[] {-1, -1};
        }
        try {
            long[] ids = threads.getAllThreadIds();
            long[] bytes = threads.getThreadAllocatedBytes(ids);
            ThreadInfo[] infos = threads.getThreadInfo(ids);
            long sum = 0;
            long loops = 0;
            for (int i = 0; i < ids.length; i++) {
                String name = infos[i] == null ? "" : infos[i].getThreadName();
                if (bytes[i] > 0 && !name.startsWith("RMI ") && !name.startsWith("JMX ")) {
                    sum += bytes[i];
                    if (name.startsWith("remora-worker")) {
                        loops += bytes[i];
                    }
                }
            }
            return new long[] {sum, loops};
        } catch (RuntimeException e) {
            return new long[] {-1, -1};
        }
    }

    /** A snapshot to diff: CPU, allocation (all threads), allocation (event loops). */
    long[] snapshot() {
        long[] a = allocatedBytes();
        return new long[] {cpuMicros(), a[0], a[1]};
    }

    @Override
    public void close() {
        if (jmx != null) {
            try {
                jmx.close();
            } catch (IOException e) {
                // the sidecar is stopping
            }
        }
    }

    static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException e) {
            return "n/a";
        }
    }
}
