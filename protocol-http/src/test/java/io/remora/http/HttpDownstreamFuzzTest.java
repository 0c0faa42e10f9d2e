package io.remora.http;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Headers;
import io.remora.core.cluster.HostRegistry;
import io.remora.core.config.ConfigCompiler;
import io.remora.core.config.ConfigLoader;
import io.remora.core.config.ConfigSnapshot;
import io.remora.core.metrics.ProxyMetrics;
import io.remora.core.protocol.ProtocolRegistry;
import io.remora.core.proxy.ListenerManager;
import io.remora.core.proxy.ListenerSlot;
import io.remora.testing.fuzz.FdpSeed;
import io.remora.testing.fuzz.FuzzSupport;
import io.remora.testing.fuzz.TrackingAllocator;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Fuzz targets of the HTTP downstream pipeline (docs/fuzzing.md): bytes from a client, cut into reads, through the
 * pipeline a listener of protocol {@code http} installs ({@link ListenerManager#initializer}: the version detector,
 * then Http1Downstream behind Netty's codec with h2c upgrade, or Http2Downstream on the preface) in an
 * {@code EmbeddedChannel}. The listener's routes lead to a cluster with no hosts or to no route at all, so every
 * request gets a local answer (503, 404, 4xx): no exception may reach the end of the pipeline, whatever the sidecar
 * writes on HTTP/1 starts with a status line, every buffer is released. Corpus:
 * {@code src/test/resources/io/remora/http/HttpDownstreamFuzzTestInputs/<method>/}.
 */
class HttpDownstreamFuzzTest {

    private static final String CONFIG = """
            {"listeners":[{"name":"fuzz_http","address":"127.0.0.1:15999","bind_to_port":false,"protocol":"http",
               "options":{"max_header_bytes":"4096","max_request_body_bytes":"65536","request_header_timeout_ms":"5000"},
               "routes":[{"name":"r","match":{"prefix":"/r"},"cluster":"empty","timeout_ms":1000}]}],
             "clusters":[{"name":"empty","hosts":[]}]}""";

    private static final ListenerManager MANAGER;
    private static final ListenerSlot SLOT;

    static {
        try {
            ProxyMetrics metrics = new ProxyMetrics(new SimpleMeterRegistry(), ProxyMetrics.DEFAULT_MAX_SERVICE_LABELS);
            ConfigSnapshot snapshot = new ConfigCompiler(ProtocolRegistry.load(), Map.of(), new HostRegistry(), null,
                    metrics).compile(ConfigLoader.parse(CONFIG), 1, "fuzz");
            MANAGER = new ListenerManager(null, metrics, null);
            MANAGER.apply(null, snapshot);
            SLOT = MANAGER.slot("fuzz_http");
        } catch (Exception e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static final byte[] PREFACE = ByteBufUtil.getBytes(Http2CodecUtil.connectionPrefaceBuf());

    /** Any bytes a client may send on an {@code http} listener (HTTP/1.1, h2c upgrade, or the HTTP/2 preface). */
    @FuzzTest(maxDuration = "5m")
    @DictionaryEntries({"GET ", "POST ", "HEAD ", "OPTIONS * ", "CONNECT ", " HTTP/1.1\r\n", " HTTP/1.0\r\n", "\r\n",
        "\r\n\r\n", "Host: a\r\n", "Content-Length: ", "Transfer-Encoding: chunked\r\n", "0\r\n\r\n",
        "Connection: close\r\n", "Connection: Upgrade, HTTP2-Settings\r\n", "Upgrade: h2c\r\n",
        "HTTP2-Settings: AAMAAABkAAQAAP__\r\n", "Expect: 100-continue\r\n", "/r/x", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"})
    void http1Stream(FuzzedDataProvider data) {
        int pieces = data.consumeInt(1, 8);
        int[] at = new int[pieces];
        for (int i = 0; i < pieces; i++) {
            at[i] = data.consumeInt(0, 1 << 16);
        }
        byte[] stream = data.consumeRemainingAsBytes();
        run(stream, normalise(at, stream.length));
    }

    /**
     * The HTTP/2 preface, then frames whose headers the fuzzer chooses (type, flags, stream, a true or a false
     * length) and whose payloads are raw bytes or HPACK blocks that Netty's encoder made from fuzzer-chosen headers.
     */
    @FuzzTest(maxDuration = "5m")
    void http2Frames(FuzzedDataProvider data) throws Http2Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(PREFACE);
        DefaultHttp2HeadersEncoder hpack = new DefaultHttp2HeadersEncoder();
        TrackingAllocator scratch = new TrackingAllocator();
        int frames = data.consumeInt(0, 12);
        for (int i = 0; i < frames; i++) {
            int type = data.consumeInt(0, 10);
            if (data.consumeInt(0, 15) == 0) {
                type = data.consumeInt(0, 255);
            }
            int flags = data.consumeInt(0, 255);
            int stream = switch (data.consumeInt(0, 4)) {
                case 0 -> 0;
                case 1 -> 1;
                case 2 -> 3;
                case 3 -> 2 * data.consumeInt(0, 50) + 1;
                default -> data.consumeInt();
            };
            byte[] payload;
            if ((type == 1 || type == 9 || type == 5) && data.consumeBoolean()) {
                Http2Headers h = new DefaultHttp2Headers(false);
                if (data.consumeBoolean()) {
                    h.method(data.pickValue(new String[] {"GET", "POST", "CONNECT", "OPTIONS", "HEAD", "x"}));
                    h.path(data.pickValue(new String[] {"/r/a", "/", "*", "/x?q", ""}));
                    h.scheme(data.pickValue(new String[] {"http", "https", ""}));
                    h.authority(data.consumeString(12));
                }
                int extra = data.consumeInt(0, 4);
                for (int j = 0; j < extra; j++) {
                    h.add(data.consumeString(16), data.consumeString(32));
                }
                ByteBuf b = scratch.buffer();
                try {
                    if (type == 1 && (flags & 0x20) != 0) {
                        b.writeInt(data.consumeInt()).writeByte(data.consumeInt(0, 255)); // PRIORITY fields
                    } else if (type == 5) {
                        b.writeInt(2 * data.consumeInt(0, 20)); // the promised stream
                    }
                    hpack.encodeHeaders(stream, h, b);
                    payload = ByteBufUtil.getBytes(b);
                } finally {
                    b.release();
                }
            } else {
                payload = data.consumeBytes(data.consumeInt(0, 300));
            }
            int length = data.consumeInt(0, 31) == 0 ? data.consumeInt(0, 0xFFFFFF) : payload.length;
            out.write(length >>> 16);
            out.write(length >>> 8);
            out.write(length);
            out.write(type);
            out.write(flags);
            out.write(stream >>> 24);
            out.write(stream >>> 16);
            out.write(stream >>> 8);
            out.write(stream);
            out.writeBytes(payload);
        }
        scratch.assertAllReleased("HPACK encoding");
        byte[] bytes = out.toByteArray();
        int pieces = data.consumeInt(1, 6);
        int[] at = new int[pieces];
        for (int i = 0; i < pieces; i++) {
            at[i] = data.consumeInt(0, bytes.length);
        }
        run(bytes, normalise(at, bytes.length));
    }

    /**
     * Rewrites the hand-made seeds of {@link #http1Stream}: requests that hit the 503 route and the 404, keep-alive
     * and pipelined requests, chunked and sized bodies, an h2c upgrade, the HTTP/2 preface, a slow header, malformed
     * lines ({@code -Dfuzz.seeds.write=true}, docs/fuzzing.md).
     */
    @Test
    @EnabledIfSystemProperty(named = "fuzz.seeds.write", matches = "true")
    void writeSeeds() {
        Path dir = Path.of("src/test/resources/io/remora/http/HttpDownstreamFuzzTestInputs/http1Stream");
        String[][] seeds = {
            {"get_503", "GET /r/a HTTP/1.1\r\nHost: a\r\n\r\n"},
            {"get_404", "GET /nope HTTP/1.1\r\nHost: a\r\n\r\n"},
            {"pipelined", "GET /r/1 HTTP/1.1\r\nHost: a\r\n\r\nGET /r/2 HTTP/1.1\r\nHost: a\r\n\r\n"},
            {"post_sized", "POST /r/p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"},
            {"post_chunked", "POST /r/p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"},
            {"expect_continue", "PUT /r/p HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc"},
            {"h2c_upgrade", "GET /r/u HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
                    + "HTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n"},
            {"http10_close", "GET /r/a HTTP/1.0\r\nConnection: close\r\n\r\n"},
            {"connect", "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n"},
            {"options_star", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"},
            {"bad_line", "GET\r\n\r\n"},
            {"no_host", "GET /r/a HTTP/1.1\r\n\r\n"},
            {"header_too_big", "GET /r/a HTTP/1.1\r\nHost: a\r\nX: " + "x".repeat(5000) + "\r\n\r\n"},
            {"cl_and_te", "POST /r/p HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
            {"partial_head", "GET /r/a HTTP/1.1\r\nHost:"},
            {"preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\4\0\0\0\0\0"},
        };
        for (String[] s : seeds) {
            byte[] b = s[1].getBytes(StandardCharsets.ISO_8859_1);
            new FdpSeed().intInRange(2, 1, 8).intInRange(b.length / 2, 0, 1 << 16).intInRange(b.length - 1, 0, 1 << 16)
                    .bytes(b).write(dir, s[0]);
        }
    }

    // ---- the run

    private static void run(byte[] stream, int[] cuts) {
        TrackingAllocator alloc = new TrackingAllocator();
        EmbeddedChannel ch = new EmbeddedChannel(false, false);
        ch.config().setAllocator(alloc);
        ch.pipeline().addLast(MANAGER.initializer(SLOT));
        try {
            ch.register();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        ByteArrayOutputStream written = new ByteArrayOutputStream();
        boolean open;
        try {
            int from = 0;
            for (int to : cuts) {
                if (!ch.isOpen()) {
                    break;
                }
                ch.writeInbound(alloc.copyOf(stream, from, to)); // any exception reaching the tail is rethrown here
                from = to;
                ch.runPendingTasks();
                collect(ch, written);
            }
            ch.advanceTimeBy(6, TimeUnit.SECONDS); // past the request-header timeout
            ch.runScheduledPendingTasks();
            ch.runPendingTasks();
            collect(ch, written);
            ch.checkException();
            open = ch.isOpen();
        } finally {
            ch.finishAndReleaseAll();
        }
        byte[] out = written.toByteArray();
        boolean h2 = stream.length >= PREFACE.length && Arrays.equals(stream, 0, PREFACE.length, PREFACE, 0,
                PREFACE.length);
        if (!h2 && out.length > 0 && !startsWith(out, "HTTP/1.1 ") && !startsWith(out, "HTTP/1.0 ")) {
            throw new AssertionError("an HTTP/1 answer that does not start with a status line: "
                    + new String(out, 0, Math.min(out.length, 80), StandardCharsets.ISO_8859_1));
        }
        if (!h2 && open && out.length == 0 && hasCompleteHead(stream)) {
            throw new AssertionError("a complete HTTP/1 request head got neither an answer nor a close");
        }
        alloc.assertAllReleased("an HTTP connection");
        FuzzSupport.requireNoLeakReport();
    }

    private static void collect(EmbeddedChannel ch, ByteArrayOutputStream into) {
        Object o;
        while ((o = ch.readOutbound()) != null) {
            if (o instanceof ByteBuf b) {
                into.writeBytes(ByteBufUtil.getBytes(b));
                b.release();
            } else {
                io.netty.util.ReferenceCountUtil.release(o);
                throw new AssertionError("the pipeline wrote a " + o.getClass().getName() + ", not bytes");
            }
        }
    }

    /** A blank line after something that is not just line breaks (Netty skips leading CRLFs before a request). */
    private static boolean hasCompleteHead(byte[] b) {
        boolean content = false;
        for (int i = 0; i + 3 < b.length; i++) {
            if (b[i] != '\r' && b[i] != '\n') {
                content = true;
            } else if (content && b[i] == '\r' && b[i + 1] == '\n' && b[i + 2] == '\r' && b[i + 3] == '\n') {
                return true;
            }
        }
        return false;
    }

    private static boolean startsWith(byte[] b, String prefix) {
        if (b.length < prefix.length()) {
            return false;
        }
        for (int i = 0; i < prefix.length(); i++) {
            if (b[i] != prefix.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    private static int[] normalise(int[] at, int length) {
        int[] cuts = new int[at.length + 1];
        for (int i = 0; i < at.length; i++) {
            cuts[i] = length == 0 ? 0 : at[i] % (length + 1);
        }
        cuts[at.length] = length;
        Arrays.sort(cuts);
        return cuts;
    }
}
