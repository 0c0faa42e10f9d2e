package io.remora.injector.inject;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The current injection config, from the template and values files (a mounted ConfigMap) or the bundled ones.
 * {@link #refresh()} re-reads the files and swaps in a new config only when their bytes changed and the new pair
 * checks out; a broken edit is logged once and the last good config keeps serving. Kubelet updates a ConfigMap
 * volume by swapping a symlink, so the files are polled rather than watched.
 */
public final class InjectionConfigSource implements Supplier<InjectionConfig>, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(InjectionConfigSource.class);

    private final Path templateFile;
    private final Path valuesFile;
    private final AtomicReference<InjectionConfig> current = new AtomicReference<>();
    private final AtomicLong reloads = new AtomicLong();
    private final AtomicLong failedReloads = new AtomicLong();
    private volatile String lastError;
    private byte[][] lastSeen = new byte[2][];
    private ScheduledExecutorService poller;

    private InjectionConfigSource(Path templateFile, Path valuesFile) {
        this.templateFile = templateFile;
        this.valuesFile = valuesFile;
    }

    /** The bundled template and values; nothing to reload. */
    public static InjectionConfigSource bundled() {
        InjectionConfigSource s = new InjectionConfigSource(null, null);
        s.current.set(InjectionConfig.bundled());
        return s;
    }

    /**
     * Loads now; a missing or invalid file is an {@link InjectionException} (a process should not start on a
     * config it cannot use). Either path may be null for the bundled file.
     */
    public static InjectionConfigSource files(Path templateFile, Path valuesFile) {
        InjectionConfigSource s = new InjectionConfigSource(templateFile, valuesFile);
        byte[][] bytes = s.read();
        s.current.set(parse(bytes));
        s.lastSeen = bytes;
        return s;
    }

    @Override
    public InjectionConfig get() {
        return current.get();
    }

    /** Re-reads the files; true when a new config was swapped in. Safe to call from any thread. */
    public synchronized boolean refresh() {
        if (templateFile == null && valuesFile == null) return false;
        byte[][] bytes;
        try {
            bytes = read();
        } catch (InjectionException e) {
            fail(e.getMessage(), null);
            return false;
        }
        if (Arrays.equals(bytes[0], lastSeen[0]) && Arrays.equals(bytes[1], lastSeen[1])) return false;
        lastSeen = bytes;
        InjectionConfig next;
        try {
            next = parse(bytes);
        } catch (InjectionException e) {
            fail(e.getMessage(), bytes);
            return false;
        }
        InjectionConfig prev = current.getAndSet(next);
        reloads.incrementAndGet();
        lastError = null;
        log.info("injection config {} loaded from {} and {} (was {})", next.version(), describe(templateFile),
                describe(valuesFile), prev.version());
        return true;
    }

    /** Polls every {@code interval} on a daemon thread until {@link #close()}. */
    public synchronized void startPolling(Duration interval) {
        if (poller != null || templateFile == null && valuesFile == null) return;
        poller = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "remora-injector-config");
            t.setDaemon(true);
            return t;
        });
        long ms = Math.max(1, interval.toMillis());
        poller.scheduleWithFixedDelay(() -> {
            try {
                refresh();
            } catch (RuntimeException e) {
                log.error("injection config reload failed", e);
            }
        }, ms, ms, TimeUnit.MILLISECONDS);
    }

    public long reloads() {
        return reloads.get();
    }

    public long failedReloads() {
        return failedReloads.get();
    }

    /** The last reload's error while the last good config serves; null after a good reload. */
    public String lastError() {
        return lastError;
    }

    @Override
    public synchronized void close() {
        if (poller != null) poller.shutdownNow();
    }

    private void fail(String message, byte[][] seen) {
        if (!message.equals(lastError)) {
            log.error("injection config not reloaded, still serving {}: {}", current.get().version(), message);
        }
        lastError = message; // before the count: whoever sees the count also sees the error
        if (seen != null) lastSeen = seen;
        failedReloads.incrementAndGet();
    }

    /** Both files, read until two reads of the template agree (a ConfigMap swap between the reads would mix them). */
    private byte[][] read() {
        for (int attempt = 0; ; attempt++) {
            byte[] t = readOrBundled(templateFile, InjectionConfig.BUNDLED_TEMPLATE);
            byte[] v = readOrBundled(valuesFile, InjectionConfig.BUNDLED_VALUES);
            if (attempt == 2 || Arrays.equals(t, readOrBundled(templateFile, InjectionConfig.BUNDLED_TEMPLATE))) {
                return new byte[][] {t, v};
            }
        }
    }

    private static byte[] readOrBundled(Path file, String resource) {
        if (file == null) return InjectionConfig.resource(resource).getBytes(StandardCharsets.UTF_8);
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new InjectionException("cannot read " + file + ": " + e);
        }
    }

    private static InjectionConfig parse(byte[][] bytes) {
        return InjectionConfig.parse(new String(bytes[0], StandardCharsets.UTF_8),
                new String(bytes[1], StandardCharsets.UTF_8));
    }

    private static String describe(Path p) {
        return p == null ? "(bundled)" : p.toString();
    }
}
