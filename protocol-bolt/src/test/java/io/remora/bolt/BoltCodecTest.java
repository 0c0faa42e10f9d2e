package io.remora.bolt;

import static io.remora.bolt.BoltFrameDecoderTest.ALL_VECTORS;
import static io.remora.bolt.BoltFrameDecoderTest.CODEC;
import static io.remora.bolt.BoltFrameDecoderTest.bytes;
import static io.remora.bolt.BoltFrameDecoderTest.decode;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.alipay.remoting.ResponseStatus;
import com.alipay.remoting.exception.RemotingException;
import com.alipay.remoting.rpc.RpcCommand;
import com.alipay.remoting.rpc.exception.InvokeServerBusyException;
import com.alipay.remoting.rpc.exception.InvokeTimeoutException;
import com.alipay.remoting.rpc.protocol.RpcResponseCommand;
import com.alipay.sofa.rpc.core.response.SofaResponse;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.remora.bolt.testing.BoltOracle;
import io.remora.bolt.testing.Vectors;
import io.remora.core.protocol.Detection;
import io.remora.core.protocol.FrameKind;
import io.remora.core.protocol.Protocol;
import io.remora.core.protocol.ProtocolRegistry;
import io.remora.core.protocol.ProxyError;
import io.netty.buffer.Unpooled;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;

class BoltCodecTest {

    private static final ByteBufAllocator ALLOC = ByteBufAllocator.DEFAULT;
    private static final String CHINESE_EMOJI = "限流: rate limited by sidecar for com.example.HelloService:1.0 😀";

    static int crc(byte[] b) {
        CRC32 c = new CRC32();
        c.update(b, 0, b.length - 4);
        return (int) c.getValue();
    }

    @Test
    void reencodesEveryVectorByteForByteWhenTheIdIsUnchanged() {
        for (String name : ALL_VECTORS) {
            byte[] original = Vectors.load(name);
            BoltFrame f = decode(original);
            ByteBuf out = f.isRequestType()
                    ? CODEC.encodeRequest(f, f.requestId(), f.timeoutMillis())
                    : CODEC.encodeResponse(f, f.requestId());
            assertArrayEquals(original, bytes(out), name);
        }
    }

    @Test
    void patchesIdAndTimeoutInPlaceAndKeepsTheOriginalId() {
        byte[] original = Vectors.load("bolt_v1_request.bin");
        BoltFrame f = decode(original);
        f.retain(); // like the engine: the stream keeps its own reference while the codec takes one
        ByteBuf out = CODEC.encodeRequest(f, 0x7ffffffeL, 1234);
        try {
            assertEquals(0x7ffffffe, out.getInt(out.readerIndex() + 5));
            assertEquals(1234, out.getInt(out.readerIndex() + 10));
            assertEquals(1, f.requestId());
            assertEquals(3000, f.timeoutMillis());
            assertEquals("com.example.HelloService:1.0", f.service());
            byte[] expected = original.clone();
            expected[5] = 0x7f; expected[6] = (byte) 0xff; expected[7] = (byte) 0xff; expected[8] = (byte) 0xfe;
            expected[10] = 0; expected[11] = 0; expected[12] = 0x04; expected[13] = (byte) 0xd2;
            assertArrayEquals(expected, ByteBufUtil.getBytes(out));
        } finally {
            out.release();
            f.release();
        }
        assertEquals(0, f.refCnt());
    }

    @Test
    void aRetriedRequestGetsItsOwnViewWhileTheFirstWriteMayStillBeQueued() {
        byte[] original = Vectors.load("bolt_v1_request.bin");
        BoltFrame f = decode(original);
        f.retain(2); // the stream's own reference, plus one for each of two tries
        ByteBuf first = CODEC.encodeRequest(f, 5, 100);
        first.skipBytes(7); // a channel part way through writing it
        ByteBuf second = CODEC.encodeRequest(f, 6, 50);
        try {
            assertEquals(0, second.readerIndex());
            assertEquals(original.length, second.readableBytes());
            assertEquals(6, second.getInt(5));
            assertEquals("com.example.HelloService:1.0", f.service(), "the frame still reads its own bytes");
            assertEquals(original.length, f.size());
        } finally {
            first.release();
            second.release();
            f.release();
        }
        assertEquals(0, f.refCnt());
    }

    @Test
    void leavesTimeoutAloneWhenToldMinusOne() {
        BoltFrame f = decode(Vectors.load("bolt_v2_request_ver1.bin"));
        byte[] out = bytes(CODEC.encodeRequest(f, 99, -1));
        assertEquals(99, Unpooled.wrappedBuffer(out).getInt(6));
        assertEquals(3000, Unpooled.wrappedBuffer(out).getInt(12));
    }

    @Test
    void recomputesCrcAfterPatchingV2Frames() {
        byte[] original = Vectors.load("bolt_v2_request_ver2_crc.bin");
        BoltFrame f = decode(original);
        byte[] out = bytes(CODEC.encodeRequest(f, 0x01020304L, 500));
        ByteBuf o = Unpooled.wrappedBuffer(out);
        assertEquals(0x01020304, o.getInt(6));
        assertEquals(500, o.getInt(12));
        assertEquals(crc(out), o.getInt(out.length - 4));
        // the real bolt V2 decoder verifies the CRC: it must accept the patched frame
        RpcCommand cmd = BoltOracle.decode(out);
        assertEquals(0x01020304, cmd.getId());
        assertEquals(500, ((com.alipay.remoting.rpc.RequestCommand) cmd).getTimeout());

        BoltFrame back = decode(out);
        byte[] restored = bytes(CODEC.encodeRequest(back, 1, 3000));
        assertArrayEquals(original, restored);
    }

    @Test
    void answersHeartbeatLikeBolt() {
        BoltFrame hb = decode(Vectors.load("bolt_v1_heartbeat.bin"));
        try {
            assertArrayEquals(Vectors.load("bolt_v1_heartbeat_ack.bin"), bytes(CODEC.heartbeatAck(hb, ALLOC)));
        } finally {
            hb.release();
        }
        assertArrayEquals(Vectors.load("bolt_v1_heartbeat.bin"), bytes(CODEC.heartbeat(7, ALLOC)));
    }

    @Test
    void answersV2HeartbeatWithSameVersionAndValidCrc() {
        byte[] hb = {2, 2, 1, 0, 0, 1, 0, 0, 0, 5, 1, 1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
        ByteBuf tmp = Unpooled.wrappedBuffer(hb);
        tmp.setInt(24, crc(hb));
        BoltFrame f = decode(hb);
        try {
            assertEquals(FrameKind.HEARTBEAT, f.kind());
            byte[] ack = bytes(CODEC.heartbeatAck(f, ALLOC));
            assertEquals(26, ack.length);
            assertEquals(2, ack[0]);
            assertEquals(2, ack[1]);
            assertEquals(crc(ack), Unpooled.wrappedBuffer(ack).getInt(22));
            RpcCommand cmd = BoltOracle.decode(ack);
            assertEquals(5, cmd.getId());
            assertInstanceOf(com.alipay.remoting.rpc.HeartbeatAckCommand.class, cmd);
        } finally {
            f.release();
        }
    }

    @Test
    void buildsTheSofaErrorTemplateExactly() {
        BoltFrame req = decode(Vectors.load("bolt_v1_request.bin"));
        try {
            byte[] reply = bytes(CODEC.errorResponse(req, ProxyError.RATE_LIMITED, CHINESE_EMOJI, ALLOC));
            assertArrayEquals(Vectors.load("bolt_v1_response_proxy_error_template.bin"), reply);
        } finally {
            req.release();
        }
    }

    @Test
    void sofaRpcClientReadsOurMessageFromErrorReplies() throws Exception {
        String longMessage = "no route for service com.example.HelloService:1.0 method sayHello on listener egress "
                + "— 路由失败 🚫".repeat(3);
        for (String vector : new String[] {"bolt_v1_request.bin", "bolt_v2_request_ver1.bin",
            "bolt_v2_request_ver2_crc.bin"}) {
            for (String message : new String[] {"short", CHINESE_EMOJI, longMessage, ""}) {
                BoltFrame req = decode(Vectors.load(vector));
                try {
                    byte[] reply = bytes(CODEC.errorResponse(req, ProxyError.NO_ROUTE, message, ALLOC));
                    assertEquals(req.v2() ? 2 : 1, reply[0]);
                    Object o = BoltOracle.resolve(reply);
                    SofaResponse r = assertInstanceOf(SofaResponse.class, o, vector);
                    assertTrue(r.isError());
                    assertEquals(message, r.getErrorMsg(), vector);
                    assertEquals(1, BoltOracle.decode(reply).getId());
                } finally {
                    req.release();
                }
            }
        }
    }

    @Test
    void mapsTimeoutToBoltTimeoutStatus() {
        BoltFrame req = decode(Vectors.load("bolt_v1_request.bin"));
        try {
            byte[] reply = bytes(CODEC.errorResponse(req, ProxyError.TIMEOUT, "late", ALLOC));
            assertArrayEquals(Vectors.load("bolt_v1_response_status_timeout.bin"), reply);
            assertThrows(InvokeTimeoutException.class, () -> BoltOracle.resolve(reply));
        } finally {
            req.release();
        }
    }

    @Test
    void sendsValidNativeStatusAsIsAndFallsBackOtherwise() throws Exception {
        BoltFrame req = decode(Vectors.load("bolt_v2_request_ver2_crc.bin"));
        try {
            byte[] busy = bytes(CODEC.errorResponse(req, ProxyError.FAULT_INJECTED, "abort", 0x0004, ALLOC));
            assertEquals(26, busy.length);
            RpcResponseCommand cmd = (RpcResponseCommand) BoltOracle.decode(busy);
            assertSame(ResponseStatus.SERVER_THREADPOOL_BUSY, cmd.getResponseStatus());
            assertThrows(InvokeServerBusyException.class, () -> BoltOracle.resolve(busy));

            byte[] closed = bytes(CODEC.errorResponse(req, ProxyError.FAULT_INJECTED, "abort", 0x0010, ALLOC));
            assertSame(ResponseStatus.CONNECTION_CLOSED,
                    ((RpcResponseCommand) BoltOracle.decode(closed)).getResponseStatus());

            for (int invalid : new int[] {0x0000, 0x000a, 0x000f, 0x0013, 503, -1}) {
                byte[] fallback = bytes(CODEC.errorResponse(req, ProxyError.FAULT_INJECTED, "injected " + invalid,
                        invalid, ALLOC));
                SofaResponse r = (SofaResponse) BoltOracle.resolve(fallback);
                assertEquals("injected " + invalid, r.getErrorMsg());
            }
        } finally {
            req.release();
        }
    }

    @Test
    void realBoltDecoderReadsStatusOnlyRepliesForEveryProxyError() throws Exception {
        for (ProxyError e : ProxyError.values()) {
            BoltFrame req = decode(Vectors.load("bolt_v1_request.bin"));
            try {
                byte[] reply = bytes(CODEC.errorResponse(req, e, e + " happened", ALLOC));
                if (e == ProxyError.TIMEOUT) {
                    assertThrows(RemotingException.class, () -> BoltOracle.resolve(reply));
                } else {
                    assertEquals(e + " happened", ((SofaResponse) BoltOracle.resolve(reply)).getErrorMsg());
                }
            } finally {
                req.release();
            }
        }
    }

    @Test
    void clipsVeryLongMessagesAtACodePoint() throws Exception {
        String huge = "😀".repeat(10_000);
        BoltFrame req = decode(Vectors.load("bolt_v1_request.bin"));
        try {
            SofaResponse r = (SofaResponse) BoltOracle.resolve(bytes(CODEC.errorResponse(req, ProxyError.NO_ROUTE,
                    huge, ALLOC)));
            assertEquals(SofaErrorBody.MAX_MESSAGE_UNITS, r.getErrorMsg().length());
            assertTrue(huge.startsWith(r.getErrorMsg()));
        } finally {
            req.release();
        }
    }

    @Test
    void detectsBoltByFirstBytes() {
        BoltProtocol p = new BoltProtocol();
        assertEquals(Detection.NEED_MORE_DATA, p.detect(Unpooled.EMPTY_BUFFER));
        assertEquals(Detection.MATCH, p.detect(Unpooled.wrappedBuffer(new byte[] {1})));
        assertEquals(Detection.MATCH, p.detect(Unpooled.wrappedBuffer(new byte[] {2})));
        assertEquals(Detection.MATCH, p.detect(Unpooled.wrappedBuffer(new byte[] {2, 1})));
        assertEquals(Detection.MATCH, p.detect(Unpooled.wrappedBuffer(new byte[] {2, 2})));
        assertEquals(Detection.NO_MATCH, p.detect(Unpooled.wrappedBuffer(new byte[] {2, 3})));
        assertEquals(Detection.NO_MATCH, p.detect(Unpooled.wrappedBuffer(new byte[] {(byte) 0xda, (byte) 0xbb})));
        assertEquals(Detection.NO_MATCH, p.detect(Unpooled.wrappedBuffer("GET".getBytes())));
        assertEquals(Integer.MAX_VALUE, CODEC.maxRequestId());
    }

    @Test
    void isFoundByServiceLoader() {
        Protocol p = ProtocolRegistry.load().get("bolt");
        assertInstanceOf(BoltProtocol.class, p);
    }
}
