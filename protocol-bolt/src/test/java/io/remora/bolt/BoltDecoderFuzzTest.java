package io.remora.bolt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.remora.testing.fuzz.FdpSeed;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.embedded.EmbeddedChannel;
import io.remora.bolt.testing.BoltFrames;
import io.remora.bolt.testing.Vectors;
import io.remora.core.protocol.FrameKind;
import io.remora.core.protocol.ProtocolOptions;
import io.remora.core.protocol.ProxyError;
import io.remora.testing.fuzz.FuzzSupport;
import io.remora.testing.fuzz.TrackingAllocator;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * Fuzz targets of the Bolt framer and header map (docs/fuzzing.md). Both feed a byte stream cut at fuzzer-chosen
 * points into several buffers through the real per-connection decoder ({@link BoltCodec#newDecoder()}) in an
 * {@code EmbeddedChannel}, touch every lazy accessor and codec path of each frame, release it, and check that every
 * buffer was released. Corpus: {@code src/test/resources/io/remora/bolt/BoltDecoderFuzzTestInputs/<method>/}.
 */
class BoltDecoderFuzzTest {

    private static final BoltProtocol PROTOCOL = new BoltProtocol();
    private static final String[] VECTORS = BoltFrameDecoderTest.ALL_VECTORS;
    private static final byte[][] GOLDEN = new byte[VECTORS.length][];

    static {
        for (int i = 0; i < VECTORS.length; i++) {
            GOLDEN[i] = Vectors.load(VECTORS[i]);
        }
    }

    /**
     * Arbitrary bytes: the decoder either emits frames or fails with its documented exception, and the frames it emits
     * are exactly the leading bytes of the stream, in order, none lost or repeated.
     */
    @FuzzTest(maxDuration = "5m")
    void arbitraryStream(FuzzedDataProvider data) {
        int maxFrame = data.consumeBoolean() ? ProtocolOptions.DEFAULT_MAX_FRAME_BYTES : data.consumeInt(1, 4096);
        int pieces = data.consumeInt(1, 8);
        int[] at = new int[pieces];
        for (int i = 0; i < pieces; i++) {
            at[i] = data.consumeInt(0, 1 << 16);
        }
        byte[] stream = data.consumeRemainingAsBytes();
        int[] cuts = normalise(at, stream.length);

        TrackingAllocator alloc = new TrackingAllocator();
        BoltCodec codec = new BoltCodec(PROTOCOL, new ProtocolOptions(maxFrame, Map.of()));
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
        if (out.length > stream.length) {
            throw new AssertionError("frames hold " + out.length + " bytes, the stream had " + stream.length);
        }
        for (int i = 0; i < out.length; i++) {
            if (out[i] != stream[i]) {
                throw new AssertionError("frame bytes differ from the stream at offset " + i);
            }
        }
        alloc.assertAllReleased("an arbitrary stream");
        FuzzSupport.requireNoLeakReport();
    }

    /**
     * N valid frames (fields chosen by the fuzzer, built by the test's independent frame builder, or golden vectors
     * made by the real libraries with a new id), concatenated and cut anywhere: exactly N frames come out, with the
     * fields they were built with; re-encoded with a new id they decode again to that id (CRC recomputed).
     */
    @FuzzTest(maxDuration = "5m")
    void validFrames(FuzzedDataProvider data) {
        int n = data.consumeInt(1, 6);
        List<Expected> expected = new ArrayList<>();
        ByteArrayOutputStream stream = new ByteArrayOutputStream();
        for (int i = 0; i < n; i++) {
            Expected e = data.consumeBoolean() ? golden(data) : built(data);
            expected.add(e);
            stream.writeBytes(e.bytes);
        }
        byte[] bytes = stream.toByteArray();
        int pieces = data.consumeInt(1, 8);
        int[] at = new int[pieces];
        for (int i = 0; i < pieces; i++) {
            at[i] = data.consumeInt(0, bytes.length);
        }
        int[] cuts = normalise(at, bytes.length);

        TrackingAllocator alloc = new TrackingAllocator();
        BoltCodec codec = new BoltCodec(PROTOCOL, ProtocolOptions.DEFAULTS);
        EmbeddedChannel ch = channel(codec, alloc);
        List<BoltFrame> frames = new ArrayList<>();
        try {
            int from = 0;
            for (int to : cuts) {
                ch.writeInbound(alloc.copyOf(bytes, from, to)); // a valid stream never fails
                from = to;
                Object o;
                while ((o = ch.readInbound()) != null) {
                    frames.add((BoltFrame) o);
                }
            }
            assertEquals(n, frames.size(), "frames out of " + n + " valid frames cut at " + java.util.Arrays.toString(cuts));
            for (int i = 0; i < n; i++) {
                check(expected.get(i), frames.get(i), i);
            }
            for (int i = 0; i < n; i++) {
                BoltFrame f = frames.set(i, null);
                reencode(f, codec, alloc, data.consumeInt() & Integer.MAX_VALUE);
            }
        } finally {
            for (BoltFrame f : frames) {
                if (f != null) {
                    f.release();
                }
            }
            ch.finishAndReleaseAll();
        }
        alloc.assertAllReleased("valid frames");
        FuzzSupport.requireNoLeakReport();
    }

    /**
     * Rewrites the hand-made seeds of {@link #arbitraryStream}: each golden vector, whole and cut in three, the v1
     * request twice in a row, and a truncated and an oversized frame ({@code -Dfuzz.seeds.write=true}, docs/fuzzing.md).
     */
    @Test
    @EnabledIfSystemProperty(named = "fuzz.seeds.write", matches = "true")
    void writeSeeds() {
        Path dir = Path.of("src/test/resources/io/remora/bolt/BoltDecoderFuzzTestInputs/arbitraryStream");
        for (int i = 0; i < VECTORS.length; i++) {
            byte[] g = GOLDEN[i];
            new FdpSeed().bool(true).intInRange(3, 1, 8).intInRange(g.length / 3, 0, 1 << 16)
                    .intInRange(g.length / 2, 0, 1 << 16).intInRange(g.length - 1, 0, 1 << 16).bytes(g)
                    .write(dir, VECTORS[i].replace(".bin", ""));
        }
        byte[] req = GOLDEN[2];
        byte[] two = new byte[req.length * 2];
        System.arraycopy(req, 0, two, 0, req.length);
        System.arraycopy(req, 0, two, req.length, req.length);
        new FdpSeed().bool(true).intInRange(1, 1, 8).intInRange(req.length + 7, 0, 1 << 16).bytes(two)
                .write(dir, "two_v1_requests");
        new FdpSeed().bool(true).intInRange(1, 1, 8).intInRange(0, 0, 1 << 16)
                .bytes(java.util.Arrays.copyOf(req, req.length - 1)).write(dir, "truncated_v1_request");
        new FdpSeed().bool(false).intInRange(64, 1, 4096).intInRange(1, 1, 8).intInRange(0, 0, 1 << 16).bytes(req)
                .write(dir, "v1_request_over_max_frame");
    }

    // ---- helpers

    private static EmbeddedChannel channel(BoltCodec codec, TrackingAllocator alloc) {
        EmbeddedChannel ch = new EmbeddedChannel();
        ch.config().setAllocator(alloc);
        ch.pipeline().addLast(codec.newDecoder());
        return ch;
    }

    /** Ascending cut points in (0, length], ending with length. */
    private static int[] normalise(int[] at, int length) {
        int[] cuts = new int[at.length + 1];
        for (int i = 0; i < at.length; i++) {
            cuts[i] = length == 0 ? 0 : at[i] % (length + 1);
        }
        cuts[at.length] = length;
        java.util.Arrays.sort(cuts);
        return cuts;
    }

    private static void drain(EmbeddedChannel ch, BoltCodec codec, TrackingAllocator alloc, ByteArrayOutputStream framed) {
        Object o;
        while ((o = ch.readInbound()) != null) {
            BoltFrame f = (BoltFrame) o;
            framed.writeBytes(ByteBufUtil.getBytes(f.content(), 0, f.size()));
            exercise(f, codec, alloc);
        }
    }

    /** Every accessor and every codec path a frame can take in the engine; ends with the frame released. */
    private static void exercise(BoltFrame f, BoltCodec codec, TrackingAllocator alloc) {
        f.kind();
        f.requestId();
        f.timeoutMillis();
        f.status();
        f.responseClass();
        f.service();
        f.method();
        f.callerApp();
        f.targetApp();
        f.traceId();
        f.rpcId();
        f.header("service");
        f.header("ключ");
        f.forEachHeader((k, v) -> {
            if (k == null || v == null) {
                throw new AssertionError("forEachHeader gave a null key or value");
            }
        });
        f.toString();
        switch (f.kind()) {
            case HEARTBEAT -> codec.heartbeatAck(f, alloc).release();
            case REQUEST -> {
                for (ProxyError e : ProxyError.values()) {
                    codec.errorResponse(f, e, "fuzz " + e, alloc).release();
                }
                codec.errorResponse(f, ProxyError.FAULT_INJECTED, "status", (int) (f.requestId() & 0x1f), alloc)
                        .release();
            }
            default -> { }
        }
        ByteBuf out = f.isRequestType() ? codec.encodeRequest(f, 7, 100) : codec.encodeResponse(f, 7);
        out.release();
    }

    private static void reencode(BoltFrame f, BoltCodec codec, TrackingAllocator alloc, int newId) {
        boolean request = f.isRequestType();
        FrameKind kind = f.kind();
        int size = f.size();
        ByteBuf out = request ? codec.encodeRequest(f, newId, -1) : codec.encodeResponse(f, newId);
        EmbeddedChannel again = channel(codec, alloc);
        try {
            again.writeInbound(out); // ownership moves to the channel
            BoltFrame back = again.readInbound();
            try {
                assertEquals(kind, back.kind());
                assertEquals(newId, back.requestId());
                assertEquals(size, back.size());
            } finally {
                back.release();
            }
            assertEquals((Object) null, again.readInbound());
        } finally {
            again.finishAndReleaseAll();
        }
    }

    /** A frame the test built, and what the decoder must read from it. */
    private record Expected(byte[] bytes, FrameKind kind, long id, int timeout, int status, String service,
                            Map<String, String> headers, byte[] content) {
    }

    private static Expected golden(FuzzedDataProvider data) {
        byte[] g = GOLDEN[data.consumeInt(0, GOLDEN.length - 1)].clone();
        int id = data.consumeInt() & Integer.MAX_VALUE;
        boolean v2 = g[0] == 2;
        ByteBuffer.wrap(g).putInt(v2 ? 6 : 5, id);
        if (BoltFrames.crcPresent(g)) {
            ByteBuffer.wrap(g).putInt(g.length - 4, BoltFrames.crc(g, g.length - 4));
        }
        int type = BoltFrames.type(g);
        int cmd = BoltFrames.cmd(g);
        return new Expected(g, kind(type, cmd), id, type == 0 ? -1 : Math.max(-1, BoltFrames.timeoutOrStatus(g)),
                type == 0 ? BoltFrames.timeoutOrStatus(g) : 0, null, null, BoltFrames.content(g));
    }

    private static Expected built(FuzzedDataProvider data) {
        boolean v2 = data.consumeBoolean();
        int ver1 = v2 ? data.consumeInt(1, 2) : 1;
        int switchByte = v2 ? data.consumeInt(0, 127) : 0;
        int type = data.consumeInt(0, 2);
        int cmd = switch (data.consumeInt(0, 2)) {
            case 0 -> BoltWire.CMD_HEARTBEAT;
            case 1 -> type == 0 ? BoltWire.CMD_RESPONSE : BoltWire.CMD_REQUEST;
            default -> BoltWire.CMD_GOAWAY;
        };
        int id = data.consumeInt();
        int timeoutOrStatus = type == 0 ? data.consumeInt(0, 0xffff) : data.consumeInt();
        String className = data.consumeBoolean() ? null : utf8(data.consumeString(64));
        if (className != null && className.isEmpty()) {
            className = null;
        }
        Map<String, String> headers = new LinkedHashMap<>();
        int pairs = data.consumeInt(0, 6);
        for (int i = 0; i < pairs; i++) {
            String k = data.consumeInt(0, 9) == 0 ? null : utf8(data.consumeString(24));
            String v = data.consumeInt(0, 9) == 0 ? null : utf8(data.consumeString(48));
            headers.put(k, v);
        }
        byte[] content = data.consumeBytes(data.consumeInt(0, 256));
        byte[] bytes = BoltFrames.build(new BoltFrames.Spec(v2, ver1, switchByte, type, cmd, id, timeoutOrStatus,
                className, headers, content));
        String service = headers.get("service");
        if (service == null) {
            service = headers.get("sofa_head_target_service");
        }
        if (service == null) {
            service = className;
        }
        return new Expected(bytes, kind(type, cmd), id & 0xFFFFFFFFL,
                type == 0 ? -1 : (timeoutOrStatus < 0 ? -1 : timeoutOrStatus), type == 0 ? timeoutOrStatus : 0,
                service, headers, content);
    }

    /** What a string reads back as after UTF-8 (a lone surrogate becomes '?'). */
    private static String utf8(String s) {
        return new String(s.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8);
    }

    private static FrameKind kind(int type, int cmd) {
        if (cmd == BoltWire.CMD_GOAWAY) {
            return FrameKind.DRAIN;
        }
        if (cmd == BoltWire.CMD_HEARTBEAT) {
            return type == 1 ? FrameKind.HEARTBEAT : type == 2 ? FrameKind.OTHER_EVENT : FrameKind.HEARTBEAT_ACK;
        }
        return type == 1 ? FrameKind.REQUEST : type == 2 ? FrameKind.ONEWAY : FrameKind.RESPONSE;
    }

    private static void check(Expected e, BoltFrame f, int i) {
        String at = "frame " + i + " " + f;
        assertEquals(e.kind, f.kind(), at);
        assertEquals(e.id, f.requestId(), at);
        assertEquals(e.timeout, f.timeoutMillis(), at);
        assertEquals(e.status, f.status(), at);
        assertEquals(e.bytes.length, f.size(), at);
        assertArrayEquals(e.bytes, ByteBufUtil.getBytes(f.content(), 0, f.size()), at);
        if (BoltFrames.crcPresent(e.bytes)) {
            CRC32 crc = new CRC32();
            crc.update(e.bytes, 0, e.bytes.length - 4);
            assertEquals((int) crc.getValue(), ByteBuffer.wrap(e.bytes).getInt(e.bytes.length - 4), at);
        }
        assertArrayEquals(e.content, BoltFrames.content(e.bytes), at);
        if (e.headers != null) {
            assertEquals(e.service, f.service(), at);
            Map<String, String> nonNull = new LinkedHashMap<>();
            e.headers.forEach((k, v) -> {
                if (k != null && v != null) {
                    nonNull.put(k, v);
                }
            });
            Map<String, String> seen = new LinkedHashMap<>();
            f.forEachHeader(seen::put);
            assertEquals(nonNull, seen, at);
            for (Map.Entry<String, String> h : nonNull.entrySet()) {
                assertEquals(h.getValue(), f.header(h.getKey()), at + " header " + h.getKey());
            }
        }
    }
}
