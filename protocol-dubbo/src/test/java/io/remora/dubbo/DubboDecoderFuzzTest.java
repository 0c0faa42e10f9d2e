package io.remora.dubbo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.alibaba.com.caucho.hessian.io.Hessian2Input;
import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.remora.core.protocol.FrameKind;
import io.remora.core.protocol.ProtocolOptions;
import io.remora.core.protocol.ProxyError;
import io.remora.testing.fuzz.FdpSeed;
import io.remora.testing.fuzz.FuzzSupport;
import io.remora.testing.fuzz.TrackingAllocator;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Fuzz targets of the Dubbo framer and the Hessian2 cursor that reads service, method, version and attachments
 * (docs/fuzzing.md). Corpus: {@code src/test/resources/io/remora/dubbo/DubboDecoderFuzzTestInputs/<method>/}.
 */
class DubboDecoderFuzzTest {

    private static final String[] VECTORS = {
        "dubbo_heartbeat_request.bin", "dubbo_heartbeat_response.bin", "dubbo_readonly_event.bin",
        "dubbo_request_complex.bin", "dubbo_request_sayHello.bin", "dubbo_request_sayHello_oneway.bin",
        "dubbo_response_exception.bin", "dubbo_response_null.bin", "dubbo_response_ok.bin",
        "dubbo_response_ok_noattach.bin", "dubbo_response_service_not_found.bin",
        "dubbo_response_threadpool_exhausted.bin", "mosn_dubbo_benchmarkData.bin", "mosn_dubbo_complexData.bin"};

    private static final DubboProtocol PROTOCOL = new DubboProtocol();

    /**
     * Arbitrary bytes cut into several reads through the real decoder: frames or the documented decode exception,
     * frames are exactly the leading bytes of the stream, every accessor of every frame (which walks the Hessian2 body
     * lazily) answers without an unchecked exception, every buffer is released.
     */
    @FuzzTest(maxDuration = "5m")
    void arbitraryStream(FuzzedDataProvider data) {
        int maxFrame = data.consumeBoolean() ? ProtocolOptions.DEFAULT_MAX_FRAME_BYTES : data.consumeInt(16, 4096);
        int pieces = data.consumeInt(1, 8);
        int[] at = new int[pieces];
        for (int i = 0; i < pieces; i++) {
            at[i] = data.consumeInt(0, 1 << 16);
        }
        byte[] stream = data.consumeRemainingAsBytes();
        int[] cuts = normalise(at, stream.length);

        TrackingAllocator alloc = new TrackingAllocator();
        DubboCodec codec = (DubboCodec) PROTOCOL.codec(new ProtocolOptions(maxFrame, Map.of()));
        EmbeddedChannel ch = channel(codec, alloc);
        ByteArrayOutputStream framed = new ByteArrayOutputStream();
        try {
            int from = 0;
            for (int to : cuts) {
                try {
                    ch.writeInbound(alloc.copyOf(stream, from, to));
                } catch (RuntimeException e) {
                    FuzzSupport.requireDocumentedDecodeFailure(e);
                    drain(ch, codec, alloc, framed);
                    break;
                }
                from = to;
                drain(ch, codec, alloc, framed);
            }
        } finally {
            ch.finishAndReleaseAll();
        }
        byte[] out = framed.toByteArray();
        if (out.length > stream.length || !Arrays.equals(out, Arrays.copyOf(stream, out.length))) {
            throw new AssertionError("frame bytes are not the leading " + out.length + " bytes of the stream");
        }
        alloc.assertAllReleased("an arbitrary stream");
        FuzzSupport.requireNoLeakReport();
    }

    /**
     * Arbitrary bytes as a Hessian2 body region inside a buffer that ends exactly at the region's end (a read past it
     * throws): every walk ends in a position inside the region or a {@link HessianFormatException}.
     */
    @FuzzTest(maxDuration = "5m")
    void hessianBody(FuzzedDataProvider data) {
        int prefix = data.consumeInt(0, 8);
        int mode = data.consumeInt(0, 3);
        byte[] body = data.consumeRemainingAsBytes();
        byte[] all = new byte[prefix + body.length];
        Arrays.fill(all, 0, prefix, (byte) 'S'); // a string tag before the region must not be read
        System.arraycopy(body, 0, all, prefix, body.length);
        ByteBuf buf = Unpooled.wrappedBuffer(all);
        int start = prefix;
        int end = all.length;
        try {
            int pos = switch (mode) {
                case 0 -> DubboBody.walkRequest(buf, start, end, (k, v) -> requireKey(k));
                case 1 -> DubboBody.walkOkResponse(buf, start, end, (k, v) -> requireKey(k));
                case 2 -> {
                    Hessian2Cursor c = new Hessian2Cursor(buf, start, end);
                    while (!c.atEnd()) {
                        c.skipValue();
                    }
                    yield c.position();
                }
                default -> {
                    Hessian2Cursor c = new Hessian2Cursor(buf, start, end);
                    c.readStringMap((k, v) -> requireKey(k));
                    yield c.position();
                }
            };
            if (pos < start || pos > end) {
                throw new AssertionError("walk ended at " + pos + ", outside [" + start + ", " + end + "]");
            }
        } catch (HessianFormatException e) {
            if (e.getMessage() == null || !e.getMessage().contains("at body offset")) {
                throw new AssertionError("imprecise message: " + e.getMessage());
            }
        }
    }

    /**
     * Oracle: a request body written by hessian-lite (the real Dubbo serializer) from fuzzer-chosen strings, numbers,
     * lists and maps reads back with the same service, version, method and attachments, the walk lands exactly on the
     * body end, and the same frame through the decoder routes on the same values. Our own string writer (error replies)
     * is read back by hessian-lite to the same string.
     */
    @FuzzTest(maxDuration = "5m")
    void hessianOracle(FuzzedDataProvider data) throws IOException {
        String path = data.consumeString(80);
        String version = data.consumeString(16);
        String method = data.consumeString(40);
        int nargs = data.consumeInt(0, 4);
        Object[] args = new Object[nargs];
        for (int i = 0; i < nargs; i++) {
            args[i] = value(data, 0);
        }
        Map<String, Object> att = new LinkedHashMap<>();
        int natt = data.consumeInt(0, 8);
        for (int i = 0; i < natt; i++) {
            att.put(data.consumeString(24), scalar(data));
        }
        String message = data.consumeString(data.consumeBoolean() ? 40_000 : 200);

        byte[] body = HessianBodies.requestBytes(path, version, method, args, new LinkedHashMap<>(att));
        ByteBuf buf = Unpooled.wrappedBuffer(body);
        Map<String, String> read = new LinkedHashMap<>();
        DubboBody.Leading l;
        int end;
        try {
            l = DubboBody.readLeading(buf, 0, body.length);
            end = DubboBody.walkRequest(buf, 0, body.length, read::put);
        } catch (HessianFormatException e) {
            throw new AssertionError("a body hessian-lite wrote is unreadable: " + e.getMessage(), e);
        }
        assertEquals(read(path), l.path());
        assertEquals(read(version), l.version());
        assertEquals(read(method), l.method());
        assertEquals(body.length, end, "walk did not land on the body end");
        Map<String, String> want = expected(att);
        assertEquals(want, read);

        TrackingAllocator alloc = new TrackingAllocator();
        EmbeddedChannel ch = channel((DubboCodec) PROTOCOL.codec(ProtocolOptions.DEFAULTS), alloc);
        try {
            ByteBuf frame = alloc.buffer(16 + body.length);
            frame.writeShort(0xDABB).writeByte(0xC2).writeByte(0).writeLong(data.consumeLong()).writeInt(body.length)
                    .writeBytes(body);
            ch.writeInbound(frame);
            DubboFrame f = ch.readInbound();
            try {
                assertEquals(FrameKind.REQUEST, f.kind());
                assertEquals(read(path), f.service());
                assertEquals(read(method), f.method());
                assertEquals(read(version), f.header("version"));
                for (Map.Entry<String, String> e : want.entrySet()) {
                    if (!"version".equals(e.getKey()) && !"dubbo".equals(e.getKey())) {
                        assertEquals(e.getValue(), f.header(e.getKey()), "attachment " + e.getKey());
                    }
                }
                assertNull(f.unreadable());
            } finally {
                f.release();
            }
            assertNull(ch.readInbound());
        } finally {
            ch.finishAndReleaseAll();
        }
        alloc.assertAllReleased("a hessian-lite body");

        ByteBuf ours = Unpooled.buffer();
        Hessian2Strings.write(ours, message);
        assertEquals(Hessian2Strings.encodedLength(message), ours.readableBytes());
        Hessian2Input in = new Hessian2Input(new ByteArrayInputStream(ByteBufUtil.getBytes(ours)));
        assertEquals(message, in.readString(), "hessian-lite reads our string differently");
        FuzzSupport.requireNoLeakReport();
    }

    /**
     * Rewrites the hand-made seeds of {@link #arbitraryStream} and {@link #hessianBody}: each golden vector (made by
     * the real Dubbo and MOSN), whole and cut in three; two requests in a row; telnet text; a truncated and an
     * oversized frame; each request body alone ({@code -Dfuzz.seeds.write=true}, docs/fuzzing.md).
     */
    @Test
    @EnabledIfSystemProperty(named = "fuzz.seeds.write", matches = "true")
    void writeSeeds() {
        Path base = Path.of("src/test/resources/io/remora/dubbo/DubboDecoderFuzzTestInputs");
        Path stream = base.resolve("arbitraryStream");
        Path bodies = base.resolve("hessianBody");
        for (String v : VECTORS) {
            byte[] g = Vectors.bytes(v);
            String name = v.replace(".bin", "");
            new FdpSeed().bool(true).intInRange(3, 1, 8).intInRange(g.length / 3, 0, 1 << 16)
                    .intInRange(g.length / 2, 0, 1 << 16).intInRange(g.length - 1, 0, 1 << 16).bytes(g)
                    .write(stream, name);
            if (g.length > 17 && (g[2] & 0x80) != 0 && (g[2] & 0x20) == 0) {
                new FdpSeed().intInRange(0, 0, 8).intInRange(0, 0, 3)
                        .bytes(Arrays.copyOfRange(g, 16, g.length)).write(bodies, name + "_request");
            } else if (g.length > 17 && g[3] == 20 && (g[2] & 0x20) == 0) {
                new FdpSeed().intInRange(3, 0, 8).intInRange(1, 0, 3)
                        .bytes(Arrays.copyOfRange(g, 16, g.length)).write(bodies, name + "_response");
            }
        }
        byte[] req = Vectors.bytes("dubbo_request_sayHello.bin");
        byte[] two = new byte[req.length * 2];
        System.arraycopy(req, 0, two, 0, req.length);
        System.arraycopy(req, 0, two, req.length, req.length);
        new FdpSeed().bool(true).intInRange(1, 1, 8).intInRange(req.length + 5, 0, 1 << 16).bytes(two)
                .write(stream, "two_requests");
        new FdpSeed().bool(true).intInRange(1, 1, 8).intInRange(0, 0, 1 << 16)
                .bytes("ls\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).write(stream, "telnet_ls");
        new FdpSeed().bool(true).intInRange(1, 1, 8).intInRange(0, 0, 1 << 16)
                .bytes(Arrays.copyOf(req, req.length - 1)).write(stream, "truncated_request");
        new FdpSeed().bool(false).intInRange(64, 16, 4096).intInRange(1, 1, 8).intInRange(0, 0, 1 << 16).bytes(req)
                .write(stream, "request_over_max_frame");
    }

    // ---- helpers

    private static EmbeddedChannel channel(DubboCodec codec, TrackingAllocator alloc) {
        EmbeddedChannel ch = new EmbeddedChannel();
        ch.config().setAllocator(alloc);
        ch.pipeline().addLast(codec.newDecoder());
        return ch;
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

    private static void drain(EmbeddedChannel ch, DubboCodec codec, TrackingAllocator alloc,
                              ByteArrayOutputStream framed) {
        Object o;
        while ((o = ch.readInbound()) != null) {
            DubboFrame f = (DubboFrame) o;
            framed.writeBytes(ByteBufUtil.getBytes(f.content(), 0, f.size()));
            exercise(f, codec, alloc);
        }
    }

    /** Every accessor and codec path a frame can take in the engine; ends with the frame released. */
    private static void exercise(DubboFrame f, DubboCodec codec, TrackingAllocator alloc) {
        f.kind();
        f.requestId();
        f.timeoutMillis();
        f.status();
        f.responseClass();
        f.service();
        f.method();
        f.header("version");
        f.header("dubbo");
        f.header("group");
        f.callerApp();
        f.targetApp();
        f.traceId();
        f.forEachHeader((k, v) -> {
            if (k == null || v == null) {
                throw new AssertionError("forEachHeader gave a null key or value");
            }
        });
        f.unreadable();
        f.toString();
        switch (f.kind()) {
            case HEARTBEAT -> codec.heartbeatAck(f, alloc).release();
            case REQUEST -> {
                for (ProxyError e : ProxyError.values()) {
                    codec.errorResponse(f, e, "fuzz " + e + " " + f.unreadable(), alloc).release();
                }
            }
            default -> { }
        }
        ByteBuf out = f.isRequest() ? codec.encodeRequest(f, 7, 100) : codec.encodeResponse(f, 7);
        out.release();
    }

    private static void requireKey(String k) {
        if (k == null) {
            throw new AssertionError("attachment visitor got a null key");
        }
    }

    /** What hessian-lite makes of a Java string (a lone surrogate is written as is, CESU-8 style, and read back). */
    private static String read(String s) {
        return s;
    }

    /** Attachment values as the cursor reports them: strings as is, ints/longs/booleans as text, the rest null. */
    private static Map<String, String> expected(Map<String, Object> att) {
        Map<String, String> m = new LinkedHashMap<>();
        att.forEach((k, v) -> m.put(k, v instanceof String || v instanceof Integer || v instanceof Long
                || v instanceof Boolean ? String.valueOf(v) : null));
        return m;
    }

    private static Object scalar(FuzzedDataProvider data) {
        return switch (data.consumeInt(0, 6)) {
            case 0 -> null;
            case 1 -> data.consumeInt();
            case 2 -> data.consumeBoolean();
            case 3 -> data.consumeLong();
            case 4 -> data.consumeDouble();
            case 5 -> List.of(data.consumeString(8));
            default -> data.consumeString(64);
        };
    }

    private static Object value(FuzzedDataProvider data, int depth) {
        int kind = data.consumeInt(0, depth > 3 ? 6 : 10);
        return switch (kind) {
            case 0 -> data.consumeInt();
            case 1 -> data.consumeLong();
            case 2 -> data.consumeDouble();
            case 3 -> data.consumeString(data.consumeBoolean() ? 2000 : 40);
            case 4 -> data.consumeBytes(data.consumeInt(0, 1100));
            case 5 -> data.consumeBoolean();
            case 6 -> null;
            case 7 -> {
                List<Object> l = new ArrayList<>();
                int n = data.consumeInt(0, 6);
                for (int i = 0; i < n; i++) {
                    l.add(value(data, depth + 1));
                }
                yield l;
            }
            case 8 -> {
                Map<Object, Object> m = new LinkedHashMap<>();
                int n = data.consumeInt(0, 4);
                for (int i = 0; i < n; i++) {
                    m.put(data.consumeString(8), value(data, depth + 1));
                }
                yield m;
            }
            case 9 -> {
                FuzzClasses.Pojo p = new FuzzClasses.Pojo();
                p.name = data.consumeString(20);
                p.age = data.consumeInt();
                p.child = value(data, depth + 1);
                yield p;
            }
            default -> new int[] {data.consumeInt(), data.consumeInt()};
        };
    }
}
