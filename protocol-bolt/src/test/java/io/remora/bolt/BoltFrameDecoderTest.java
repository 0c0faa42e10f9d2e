package io.remora.bolt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.TooLongFrameException;
import io.remora.bolt.testing.Vectors;
import io.remora.core.protocol.FrameKind;
import io.remora.core.protocol.ProtocolOptions;
import io.remora.core.protocol.ResponseClass;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;

class BoltFrameDecoderTest {

    static final String[] ALL_VECTORS = {
        "bolt_v1_heartbeat.bin", "bolt_v1_heartbeat_ack.bin", "bolt_v1_request.bin", "bolt_v1_request_oneway.bin",
        "bolt_v1_response_ok.bin", "bolt_v1_response_proxy_error_template.bin", "bolt_v1_response_sofa_error.bin",
        "bolt_v1_response_status_codec_exception.bin", "bolt_v1_response_status_connection_closed.bin",
        "bolt_v1_response_status_no_processor.bin", "bolt_v1_response_status_server_exception.bin",
        "bolt_v1_response_status_server_threadpool_busy.bin", "bolt_v1_response_status_timeout.bin",
        "bolt_v1_response_status_unknown.bin", "bolt_v2_request_ver1.bin", "bolt_v2_request_ver2_crc.bin"};

    static final BoltProtocol PROTOCOL = new BoltProtocol();
    static final BoltCodec CODEC = new BoltCodec(PROTOCOL, ProtocolOptions.DEFAULTS);

    /** Decodes one frame from {@code bytes}; the caller releases it. */
    static BoltFrame decode(byte[] bytes) {
        List<BoltFrame> frames = decodeAll(CODEC, bytes, bytes.length);
        assertEquals(1, frames.size());
        return frames.get(0);
    }

    /** Feeds {@code bytes} to a fresh decoder in chunks of {@code chunk} bytes. */
    static List<BoltFrame> decodeAll(BoltCodec codec, byte[] bytes, int chunk) {
        EmbeddedChannel ch = new EmbeddedChannel(codec.newDecoder());
        List<BoltFrame> out = new ArrayList<>();
        try {
            for (int i = 0; i < bytes.length; i += chunk) {
                ch.writeInbound(Unpooled.copiedBuffer(bytes, i, Math.min(chunk, bytes.length - i)));
                Object o;
                while ((o = ch.readInbound()) != null) {
                    out.add((BoltFrame) o);
                }
            }
        } finally {
            ch.finishAndReleaseAll();
        }
        return out;
    }

    static byte[] bytes(ByteBuf b) {
        try {
            return ByteBufUtil.getBytes(b);
        } finally {
            b.release();
        }
    }

    @Test
    void decodesSofaRpcV1RequestFields() {
        BoltFrame f = decode(Vectors.load("bolt_v1_request.bin"));
        try {
            assertEquals(FrameKind.REQUEST, f.kind());
            assertEquals(1, f.requestId());
            assertEquals(3000, f.timeoutMillis());
            assertEquals(787, f.size());
            assertFalse(f.v2());
            assertFalse(f.crcPresent());
            assertEquals("bolt", f.protocol());
            assertEquals("com.example.HelloService:1.0", f.service());
            assertEquals("sayHello", f.method());
            assertEquals("hello-client", f.callerApp());
            assertEquals("hello-server", f.targetApp());
            assertEquals("0a0fe8f51700000000001000112345", f.traceId());
            assertEquals("0.1", f.rpcId());
            assertEquals("sync", f.header("type"));
            assertEquals("hello-server", f.header("sofa_head_target_app"));
            assertEquals("0a0fe8f51700000000001000112345", f.header("rpc_trace_context.sofaTraceId"));
            assertNull(f.header("absent"));
            assertEquals("com.alipay.sofa.rpc.core.request.SofaRequest", f.className());
            assertEquals(ResponseClass.OK, f.responseClass());
            Map<String, String> all = new LinkedHashMap<>();
            f.forEachHeader(all::put);
            assertEquals(Map.of("sofa_head_target_service", "com.example.HelloService:1.0", "app", "hello-client",
                    "rpc_trace_context.sofaRpcId", "0.1", "protocol", "bolt", "rpc_trace_context.samp", "true",
                    "rpc_trace_context.sofaTraceId", "0a0fe8f51700000000001000112345",
                    "service", "com.example.HelloService:1.0", "sofa_head_method_name", "sayHello", "type", "sync",
                    "sofa_head_target_app", "hello-server"), all);
        } finally {
            f.release();
        }
    }

    @Test
    void decodesOnewayRequest() {
        BoltFrame f = decode(Vectors.load("bolt_v1_request_oneway.bin"));
        try {
            assertEquals(FrameKind.ONEWAY, f.kind());
            assertEquals("com.example.HelloService:1.0", f.service());
        } finally {
            f.release();
        }
    }

    @Test
    void decodesV2FramesWithAndWithoutCrc() {
        BoltFrame plain = decode(Vectors.load("bolt_v2_request_ver1.bin"));
        BoltFrame crc = decode(Vectors.load("bolt_v2_request_ver2_crc.bin"));
        try {
            assertTrue(plain.v2());
            assertEquals(1, plain.ver1());
            assertFalse(plain.crcPresent());
            assertEquals(789, plain.size());
            assertEquals(FrameKind.REQUEST, plain.kind());
            assertEquals(1, plain.requestId());
            assertEquals(3000, plain.timeoutMillis());
            assertEquals("sayHello", plain.method());

            assertTrue(crc.v2());
            assertEquals(2, crc.ver1());
            assertEquals(1, crc.switchByte());
            assertTrue(crc.crcPresent());
            assertEquals(793, crc.size());
            assertEquals(3000, crc.timeoutMillis());
            assertEquals("com.example.HelloService:1.0", crc.service());
            byte[] b = Vectors.load("bolt_v2_request_ver2_crc.bin");
            CRC32 c = new CRC32();
            c.update(b, 0, b.length - 4);
            assertEquals((int) c.getValue(), crc.content().getInt(b.length - 4));
            assertEquals(0x57a21758, (int) c.getValue());
        } finally {
            plain.release();
            crc.release();
        }
    }

    @Test
    void decodesResponsesAndTheirClasses() {
        Map<String, Integer> statuses = new LinkedHashMap<>();
        statuses.put("bolt_v1_response_status_server_exception.bin", 0x0002);
        statuses.put("bolt_v1_response_status_unknown.bin", 0x0003);
        statuses.put("bolt_v1_response_status_server_threadpool_busy.bin", 0x0004);
        statuses.put("bolt_v1_response_status_no_processor.bin", 0x0006);
        statuses.put("bolt_v1_response_status_timeout.bin", 0x0007);
        statuses.put("bolt_v1_response_status_codec_exception.bin", 0x0009);
        statuses.put("bolt_v1_response_status_connection_closed.bin", 0x0010);
        statuses.forEach((name, status) -> {
            BoltFrame f = decode(Vectors.load(name));
            try {
                assertEquals(FrameKind.RESPONSE, f.kind(), name);
                assertEquals(1, f.requestId(), name);
                assertEquals(status, f.status(), name);
                assertEquals(ResponseClass.RPC_ERROR, f.responseClass(), name);
                assertEquals(-1, f.timeoutMillis(), name);
                assertEquals(20, f.size(), name);
            } finally {
                f.release();
            }
        });
        BoltFrame ok = decode(Vectors.load("bolt_v1_response_ok.bin"));
        BoltFrame bizError = decode(Vectors.load("bolt_v1_response_sofa_error.bin"));
        try {
            assertEquals(FrameKind.RESPONSE, ok.kind());
            assertEquals(0, ok.status());
            assertEquals(ResponseClass.OK, ok.responseClass());
            assertEquals(175, ok.size());
            assertEquals(ResponseClass.BUSINESS_ERROR, bizError.responseClass());
            assertEquals("true", bizError.header("sofa_head_response_error"));
        } finally {
            ok.release();
            bizError.release();
        }
    }

    @Test
    void decodesHeartbeatAndAck() {
        BoltFrame hb = decode(Vectors.load("bolt_v1_heartbeat.bin"));
        BoltFrame ack = decode(Vectors.load("bolt_v1_heartbeat_ack.bin"));
        try {
            assertEquals(FrameKind.HEARTBEAT, hb.kind());
            assertEquals(7, hb.requestId());
            assertEquals(-1, hb.timeoutMillis());
            assertNull(hb.service());
            assertNull(hb.method());
            assertEquals(FrameKind.HEARTBEAT_ACK, ack.kind());
            assertEquals(7, ack.requestId());
        } finally {
            hb.release();
            ack.release();
        }
    }

    @Test
    void decodesByteByByteLikeInOneGo() {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        for (String v : ALL_VECTORS) {
            all.writeBytes(Vectors.load(v));
        }
        byte[] stream = all.toByteArray();
        List<BoltFrame> whole = decodeAll(CODEC, stream, stream.length);
        List<BoltFrame> bytewise = decodeAll(CODEC, stream, 1);
        try {
            assertEquals(ALL_VECTORS.length, whole.size());
            assertEquals(ALL_VECTORS.length, bytewise.size());
            for (int i = 0; i < ALL_VECTORS.length; i++) {
                BoltFrame a = whole.get(i);
                BoltFrame b = bytewise.get(i);
                assertArrayEquals(Vectors.load(ALL_VECTORS[i]), ByteBufUtil.getBytes(b.content()), ALL_VECTORS[i]);
                assertEquals(a.kind(), b.kind());
                assertEquals(a.requestId(), b.requestId());
                assertEquals(a.service(), b.service());
                assertEquals(a.method(), b.method());
                assertEquals(a.status(), b.status());
                assertEquals(a.timeoutMillis(), b.timeoutMillis());
            }
        } finally {
            whole.forEach(BoltFrame::release);
            bytewise.forEach(BoltFrame::release);
        }
    }

    @Test
    void rejectsOversizedFrameBeforeTheBodyArrives() {
        BoltCodec small = new BoltCodec(PROTOCOL, new ProtocolOptions(1024 * 1024, Map.of()));
        ByteBuf header = Unpooled.buffer();
        header.writeBytes(new byte[] {1, 1, 0, 1, 1, 0, 0, 0, 9, 1, 0, 0, 0x0b, (byte) 0xb8});
        header.writeShort(44).writeShort(0).writeInt(100 * 1024 * 1024); // only the 22-byte fixed header
        EmbeddedChannel ch = new EmbeddedChannel(small.newDecoder());
        DecoderException e = assertThrows(DecoderException.class, () -> ch.writeInbound(header));
        assertTrue(e instanceof TooLongFrameException, e.toString());
        assertTrue(e.getMessage().contains("exceeds the limit of 1048576"), e.getMessage());
        ch.finishAndReleaseAll();
    }

    @Test
    void treatsLengthsAsUnsigned() {
        // contentLen 0xFFFFFFF0 would be negative as an int; it must count as ~4 GiB and be rejected as too long
        byte[] b = {1, 1, 0, 1, 1, 0, 0, 0, 9, 1, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, 0, 0,
            (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xf0};
        EmbeddedChannel ch = new EmbeddedChannel(CODEC.newDecoder());
        assertThrows(TooLongFrameException.class, () -> ch.writeInbound(Unpooled.wrappedBuffer(b)));
        ch.finishAndReleaseAll();
    }

    @Test
    void rejectsGarbageFirstByte() {
        EmbeddedChannel ch = new EmbeddedChannel(CODEC.newDecoder());
        DecoderException e = assertThrows(DecoderException.class,
                () -> ch.writeInbound(Unpooled.wrappedBuffer("GET / HTTP/1.1\r\n".getBytes())));
        assertTrue(e instanceof CorruptedFrameException, e.toString());
        assertTrue(e.getMessage().contains("0x47"), e.getMessage());
        ch.finishAndReleaseAll();
    }

    @Test
    void rejectsUnknownV2VersionAndUnknownType() {
        EmbeddedChannel v2 = new EmbeddedChannel(CODEC.newDecoder());
        assertThrows(CorruptedFrameException.class, () -> v2.writeInbound(Unpooled.wrappedBuffer(new byte[] {2, 3})));
        v2.finishAndReleaseAll();
        EmbeddedChannel type = new EmbeddedChannel(CODEC.newDecoder());
        assertThrows(CorruptedFrameException.class,
                () -> type.writeInbound(Unpooled.wrappedBuffer(new byte[] {1, 5, 0, 1})));
        type.finishAndReleaseAll();
        EmbeddedChannel cmd = new EmbeddedChannel(CODEC.newDecoder());
        byte[] badCmd = Vectors.load("bolt_v1_request.bin");
        badCmd[3] = 7; // cmdcode 7 does not exist
        assertThrows(CorruptedFrameException.class, () -> cmd.writeInbound(Unpooled.wrappedBuffer(badCmd)));
        cmd.finishAndReleaseAll();
    }

    @Test
    void waitsForMoreBytesWithoutAllocating() {
        byte[] v = Vectors.load("bolt_v2_request_ver2_crc.bin");
        BoltFrameDecoder d = new BoltFrameDecoder(PROTOCOL, 1 << 20);
        for (int n = 0; n < v.length; n++) {
            ByteBuf in = Unpooled.wrappedBuffer(v, 0, n);
            assertNull(d.decodeOne(in), "decoded from " + n + " bytes");
            assertEquals(0, in.readerIndex());
        }
        ByteBuf in = Unpooled.wrappedBuffer(v);
        BoltFrame f = d.decodeOne(in);
        assertEquals(v.length, f.size());
        f.release();
        assertFalse(in.isReadable());
    }

    @Test
    void rejectsV2FrameWhoseCrcDoesNotMatchItsBytes() {
        byte[] v = Vectors.load("bolt_v2_request_ver2_crc.bin");
        v[v.length - 10] ^= 0x5a; // one content byte flipped: the trailer no longer matches
        EmbeddedChannel ch = new EmbeddedChannel(CODEC.newDecoder());
        CorruptedFrameException e = assertThrows(CorruptedFrameException.class,
                () -> ch.writeInbound(Unpooled.wrappedBuffer(v)));
        assertTrue(e.getMessage().contains("CRC32 mismatch"), e.getMessage());
        assertNull(ch.readInbound());
        ch.finishAndReleaseAll();

        byte[] trailer = Vectors.load("bolt_v2_request_ver2_crc.bin");
        trailer[trailer.length - 1] ^= 0x01; // the trailer itself corrupted
        EmbeddedChannel ch2 = new EmbeddedChannel(CODEC.newDecoder());
        assertThrows(CorruptedFrameException.class, () -> ch2.writeInbound(Unpooled.wrappedBuffer(trailer)));
        ch2.finishAndReleaseAll();
    }
}
