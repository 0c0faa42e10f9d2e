package io.remora.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.remora.testing.TestSidecar;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** 100 MB bodies both ways through the sidecar: streamed, with the sidecar's buffer memory staying flat. */
class HttpStreamingTest {

    static final long SIZE = 100L << 20;
    /** Far below the body size: proves the body is never held whole. */
    static final long MAX_GROWTH = 24L << 20;

    static HttpUpstreamServer upstream;
    static TestSidecar sidecar;

    @BeforeAll
    static void start() throws Exception {
        upstream = new HttpUpstreamServer("big");
        sidecar = TestSidecar.start("""
                {"admin":{"port":0},
                 "listeners":[{"name":"web","address":"127.0.0.1:0","protocol":"http",
                   "routes":[{"match":{"prefix":"/"},"cluster":"big","timeout_ms":120000}]}],
                 "clusters":[{"name":"big","hosts":[{"address":"127.0.0.1:%d"}]}]}
                """.formatted(upstream.port()));
    }

    @AfterAll
    static void stop() {
        sidecar.close();
        upstream.close();
    }

    /** Samples the Netty allocator's used memory (heap + direct) while {@code work} runs; returns the peak growth. */
    static long peakGrowth(ThrowingRunnable work) throws Exception {
        var metric = ((ByteBufAllocatorMetricProvider) ByteBufAllocator.DEFAULT).metric();
        long base = metric.usedDirectMemory() + metric.usedHeapMemory();
        AtomicLong peak = new AtomicLong(base);
        AtomicBoolean running = new AtomicBoolean(true);
        Thread sampler = new Thread(() -> {
            while (running.get()) {
                peak.accumulateAndGet(metric.usedDirectMemory() + metric.usedHeapMemory(), Math::max);
                try {
                    Thread.sleep(5);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        sampler.start();
        try {
            work.run();
        } finally {
            running.set(false);
            sampler.join();
        }
        return peak.get() - base;
    }

    interface ThrowingRunnable {
        void run() throws Exception;
    }

    static long drainSlowly(InputStream in) throws Exception {
        byte[] buf = new byte[64 * 1024];
        long n = 0;
        long nextPause = 4L << 20;
        for (int r; (r = in.read(buf)) > 0; ) {
            n += r;
            if (n >= nextPause) {
                nextPause += 4L << 20;
                Thread.sleep(10); // a caller slower than the upstream: the sidecar must push back, not buffer
            }
        }
        return n;
    }

    static void download(HttpClient.Version version) throws Exception {
        HttpClient c = HttpClient.newBuilder().version(version).build();
        URI u = URI.create("http://127.0.0.1:" + sidecar.port("web") + "/download?bytes=" + SIZE);
        c.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + sidecar.port("web") + "/warm")).build(),
                HttpResponse.BodyHandlers.discarding());
        long growth = peakGrowth(() -> {
            HttpResponse<InputStream> r = c.send(HttpRequest.newBuilder(u).timeout(Duration.ofMinutes(2)).build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            assertEquals(200, r.statusCode());
            try (InputStream in = r.body()) {
                assertEquals(SIZE, drainSlowly(in));
            }
        });
        System.out.println(version + " download of " + SIZE + " bytes: peak buffer growth " + growth + " bytes");
        assertTrue(growth < MAX_GROWTH, "buffer memory grew by " + growth);
    }

    @Test
    void streamsHundredMegabyteDownloadOverHttp1WithFlatMemory() throws Exception {
        download(HttpClient.Version.HTTP_1_1);
    }

    @Test
    void streamsHundredMegabyteDownloadOverH2cWithFlatMemory() throws Exception {
        download(HttpClient.Version.HTTP_2);
    }

    @Test
    void streamsHundredMegabyteChunkedUploadWithFlatMemory() throws Exception {
        HttpClient c = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        URI u = URI.create("http://127.0.0.1:" + sidecar.port("web") + "/upload");
        long growth = peakGrowth(() -> {
            HttpResponse<String> r = c.send(HttpRequest.newBuilder(u).timeout(Duration.ofMinutes(2))
                    .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ZeroStream(SIZE))).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode());
            assertTrue(r.body().contains("body=" + SIZE), r.body());
            assertTrue(r.body().contains("h:transfer-encoding=chunked"), r.body());
        });
        System.out.println("chunked upload of " + SIZE + " bytes: peak buffer growth " + growth + " bytes");
        assertTrue(growth < MAX_GROWTH, "buffer memory grew by " + growth);
    }

    /** {@code n} zero bytes, generated on the fly. */
    static final class ZeroStream extends InputStream {
        private long left;

        ZeroStream(long n) {
            left = n;
        }

        @Override
        public int read() {
            if (left <= 0) {
                return -1;
            }
            left--;
            return 0;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (left <= 0) {
                return -1;
            }
            int n = (int) Math.min(len, left);
            java.util.Arrays.fill(b, off, off + n, (byte) 0);
            left -= n;
            return n;
        }
    }
}
