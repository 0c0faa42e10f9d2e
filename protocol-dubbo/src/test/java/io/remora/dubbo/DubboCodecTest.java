package io.remora.dubbo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.alibaba.com.caucho.hessian.io.Hessian2Input;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.TooLongFrameException;
import io.remora.core.protocol.Detection;
import io.remora.core.protocol.FrameKind;
import io.remora.core.protocol.Protocol;
import io.remora.core.protocol.ProtocolOptions;
import io.remora.core.protocol.ProtocolRegistry;
import io.remora.core.protocol.ProxyError;
import java.io.ByteArrayInputStream;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DubboCodecTest {

    @Test
    void isRegisteredAsDubbo() {
        Protocol p = ProtocolRegistry.load().get("dubbo");
        assertNotNull(p);
        assertTrue(p instanceof DubboProtocol);
    }

    @Test
    void detectsByMagic() {
        DubboProtocol p = new DubboProtocol();
        assertEquals(Detection.MATCH, p.detect(Unpooled.wrappedBuffer(new byte[] {(byte) 0xDA, (byte) 0xBB})));
        assertEquals(Detection.NEED_MORE_DATA, p.detect(Unpooled.wrappedBuffer(new byte[] {(byte) 0xDA})));
        assertEquals(Detection.NEED_MORE_DATA, p.detect(Unpooled.EMPTY_BUFFER));
        assertEquals(Detection.NO_MATCH, p.detect(Unpooled.wrappedBuffer(new byte[] {(byte) 0xDA, 0x01})));
        assertEquals(Detection.NO_MATCH, p.detect(Unpooled.wrappedBuffer(new byte[] {0x01, 0x01, 0x02})));
        assertEquals(Detection.NO_MATCH, p.detect(Unpooled.wrappedBuffer("GET / HTTP/1.1".getBytes())));
    }

    @Test
    void framesByteByByteAndBackToBack() {
        byte[] a = Vectors.bytes("dubbo_request_sayHello.bin");
        byte[] b = Vectors.bytes("dubbo_heartbeat_request.bin");
        byte[] c = Vectors.bytes("dubbo_request_complex.bin");
        byte[] all = new byte[a.length + b.length + c.length];
        System.arraycopy(a, 0, all, 0, a.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        System.arraycopy(c, 0, all, a.length + b.length, c.length);
        EmbeddedChannel ch = new EmbeddedChannel(Vectors.CODEC.newDecoder());
        for (int i = 0; i < all.length; i += 7) {
            ch.writeInbound(Unpooled.wrappedBuffer(all, i, Math.min(7, all.length - i)));
        }
        DubboFrame f1 = ch.readInbound();
        DubboFrame f2 = ch.readInbound();
        DubboFrame f3 = ch.readInbound();
        assertNull(ch.readInbound());
        assertEquals(FrameKind.REQUEST, f1.kind());
        assertEquals(FrameKind.HEARTBEAT, f2.kind());
        assertEquals("save", f3.method());
        assertArrayEquals(a, Vectors.toBytes(Vectors.CODEC.encodeRequest(f1, 1, -1)));
        f2.release();
        assertArrayEquals(c, Vectors.toBytes(Vectors.CODEC.encodeRequest(f3, 2, -1)));
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void aKeptRequestSurvivesBeingWrittenAndCanBeSentAgain() {
        byte[] a = Vectors.bytes("dubbo_request_sayHello.bin");
        EmbeddedChannel ch = new EmbeddedChannel(Vectors.CODEC.newDecoder());
        ch.writeInbound(Unpooled.wrappedBuffer(a));
        DubboFrame f = ch.readInbound();
        f.retain(); // the stream keeps the request for a retry and gives the codec a reference of its own
        ByteBuf first = Vectors.CODEC.encodeRequest(f, 7, -1);
        first.skipBytes(first.readableBytes()); // what writing it to a channel does
        first.release();
        assertEquals(a.length, f.size(), "the kept frame still sees all of its bytes");
        assertEquals("g1", f.header("group"), "and its attachments can still be read");
        f.retain();
        byte[] resent = Vectors.toBytes(Vectors.CODEC.encodeRequest(f, 8, -1));
        assertEquals(a.length, resent.length);
        assertEquals(8, java.nio.ByteBuffer.wrap(resent, 4, 8).getLong());
        f.release();
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void rejectsFrameOverTheLimitBeforeItArrives() {
        DubboCodec small = (DubboCodec) new DubboProtocol().codec(new ProtocolOptions(1024, Map.of()));
        EmbeddedChannel ch = new EmbeddedChannel(small.newDecoder());
        byte[] header = Arrays.copyOf(Vectors.bytes("dubbo_request_complex.bin"), 16); // declares 40 KB
        assertThrows(TooLongFrameException.class, () -> ch.writeInbound(Unpooled.wrappedBuffer(header)));
        ch.writeInbound(Unpooled.wrappedBuffer(Vectors.bytes("dubbo_heartbeat_request.bin"))); // discarded after
        assertNull(ch.readInbound());
        ch.finishAndReleaseAll();
    }

    @Test
    void rejectsNegativeLengthAndBadMagic() {
        byte[] neg = Vectors.bytes("dubbo_heartbeat_request.bin");
        neg[12] = (byte) 0x80;
        EmbeddedChannel ch = new EmbeddedChannel(Vectors.CODEC.newDecoder());
        assertThrows(CorruptedFrameException.class, () -> ch.writeInbound(Unpooled.wrappedBuffer(neg)));
        ch.finishAndReleaseAll();
        EmbeddedChannel ch2 = new EmbeddedChannel(Vectors.CODEC.newDecoder());
        assertThrows(CorruptedFrameException.class, () -> ch2.writeInbound(Unpooled.wrappedBuffer("ls\r\n".getBytes())));
        ch2.finishAndReleaseAll();
    }

    @Test
    void mapsEveryProxyErrorToANativeStatus() {
        assertEquals(60, DubboCodec.statusFor(ProxyError.NO_ROUTE, -1));
        assertEquals(60, DubboCodec.statusFor(ProxyError.NO_HEALTHY_UPSTREAM, -1));
        assertEquals(100, DubboCodec.statusFor(ProxyError.RATE_LIMITED, -1));
        assertEquals(100, DubboCodec.statusFor(ProxyError.OVERFLOW, -1));
        assertEquals(100, DubboCodec.statusFor(ProxyError.CIRCUIT_OPEN, -1));
        assertEquals(31, DubboCodec.statusFor(ProxyError.TIMEOUT, -1));
        assertEquals(80, DubboCodec.statusFor(ProxyError.UPSTREAM_RESET, -1));
        assertEquals(80, DubboCodec.statusFor(ProxyError.UPSTREAM_CONNECT_FAILURE, -1));
        assertEquals(40, DubboCodec.statusFor(ProxyError.BAD_REQUEST, -1));
        assertEquals(80, DubboCodec.statusFor(ProxyError.UNAUTHORIZED, -1));
        assertEquals(80, DubboCodec.statusFor(ProxyError.UNAVAILABLE, -1));
        assertEquals(80, DubboCodec.statusFor(ProxyError.FAULT_INJECTED, -1));
        assertEquals(70, DubboCodec.statusFor(ProxyError.FAULT_INJECTED, 70));
        assertEquals(80, DubboCodec.statusFor(ProxyError.FAULT_INJECTED, 20)); // OK would need a result body
        assertEquals(80, DubboCodec.statusFor(ProxyError.FAULT_INJECTED, 300));
    }

    @Test
    void errorReplyKeepsIdAndCarriesTheMessageAsHessianString() throws Exception {
        byte[] req = Vectors.bytes("dubbo_request_sayHello.bin");
        req[11] = 0x42;
        DubboFrame f = Vectors.decode(req);
        String msg = "sidecar says: 中文 " + "x".repeat(70_000) + " \uD83D\uDE00 end";
        byte[] out = Vectors.toBytes(Vectors.CODEC.errorResponse(f, ProxyError.FAULT_INJECTED, msg, 70,
                ByteBufAllocator.DEFAULT));
        f.release();
        assertEquals((byte) 0xDA, out[0]);
        assertEquals(0x02, out[2]);
        assertEquals(70, out[3]);
        assertEquals(0x42, out[11]);
        assertEquals(out.length - 16, Unpooled.wrappedBuffer(out).getInt(12));
        Hessian2Input in = new Hessian2Input(new ByteArrayInputStream(out, 16, out.length - 16));
        assertEquals(msg, in.readString());
    }

    @Test
    void nonHessianSerializationRoutesOnlyCatchAllAndSaysWhy() {
        byte[] req = Vectors.bytes("dubbo_request_sayHello.bin");
        req[2] = (byte) (0xC0 | 23); // fastjson2
        DubboFrame f = Vectors.decode(req);
        try {
            assertEquals(FrameKind.REQUEST, f.kind());
            assertNull(f.service());
            assertNull(f.method());
            assertNull(f.header("group"));
            assertNull(f.header("version"));
            ByteBuf reply = Vectors.CODEC.errorResponse(f, ProxyError.NO_ROUTE, "no route", ByteBufAllocator.DEFAULT);
            String text = reply.toString(16, reply.readableBytes() - 16, java.nio.charset.StandardCharsets.UTF_8);
            reply.release();
            assertTrue(text.contains("serialization id 23 is not Hessian2"), text);
        } finally {
            f.release();
        }
    }

    @Test
    void truncatedAttachmentsRouteWithoutAttachments() {
        byte[] req = Vectors.bytes("dubbo_request_sayHello.bin");
        // Replace the map's closing 'Z' with an unknown tag: the four leading fields still parse.
        req[req.length - 1] = 0x40;
        DubboFrame f = Vectors.decode(req);
        try {
            assertEquals("com.example.DemoService", f.service());
            assertEquals("sayHello", f.method());
            assertEquals("1.0.0", f.header("version"));
            assertNull(f.header("group"));
            assertTrue(f.parseProblem().contains("attachments"), f.parseProblem());
            assertArrayEquals(req, Vectors.toBytes(Vectors.CODEC.encodeRequest(f.retain(), 1, -1)));
        } finally {
            f.release();
        }
    }

    @Test
    void garbageBodyKeepsFraming() {
        byte[] req = Vectors.bytes("dubbo_request_sayHello.bin");
        Arrays.fill(req, 16, req.length, (byte) 0x40);
        DubboFrame f = Vectors.decode(req);
        try {
            assertNull(f.service());
            assertNull(f.header("group"));
            assertTrue(f.parseProblem().startsWith("unreadable request body"));
        } finally {
            f.release();
        }
    }

    @Test
    void callerAppPrefersRemoteApplication() {
        ByteBuf body = HessianBodies.request("com.example.DemoService", "1.0.0", "sayHello", new Object[] {"x"},
                Map.of("application", "fallback", "remote.application", "shop"));
        DubboFrame f = Vectors.decode(HessianBodies.frame(0xC2, 5, body));
        assertEquals("shop", f.callerApp());
        f.release();
        body = HessianBodies.request("com.example.DemoService", "1.0.0", "sayHello", new Object[] {"x"},
                Map.of("application", "fallback"));
        f = Vectors.decode(HessianBodies.frame(0xC2, 5, body));
        assertEquals("fallback", f.callerApp());
        f.release();
    }
}
