package io.remora.dubbo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.alibaba.com.caucho.hessian.io.Hessian2Input;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.remora.core.protocol.FrameKind;
import io.remora.core.protocol.ProxyError;
import io.remora.core.protocol.ResponseClass;
import java.io.ByteArrayInputStream;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class DubboVectorsTest {

    @Test
    void decodesSayHelloRequest() {
        DubboFrame f = Vectors.decode(Vectors.bytes("dubbo_request_sayHello.bin"));
        try {
            assertEquals(FrameKind.REQUEST, f.kind());
            assertEquals(1, f.requestId());
            assertEquals("com.example.DemoService", f.service());
            assertEquals("sayHello", f.method());
            assertEquals("1.0.0", f.header("version"));
            assertEquals("2.0.2", f.header("dubbo"));
            assertEquals("g1", f.header("group"));
            assertEquals("3000", f.header("timeout"));
            assertEquals(-1, f.timeoutMillis());
            assertEquals(Map.of("dubbo", "2.0.2", "version", "1.0.0", "path", "com.example.DemoService",
                    "interface", "com.example.DemoService", "timeout", "3000", "group", "g1"), Vectors.headers(f));
            assertNull(f.callerApp());
        } finally {
            f.release();
        }
    }

    @Test
    void decodesOnewayRequestAsOneway() {
        DubboFrame f = Vectors.decode(Vectors.bytes("dubbo_request_sayHello_oneway.bin"));
        try {
            assertEquals(FrameKind.ONEWAY, f.kind());
            assertEquals("sayHello", f.method());
            assertEquals("g1", f.header("group"));
        } finally {
            f.release();
        }
    }

    @Test
    void decodesComplexRequestWithNonStringAttachment() {
        DubboFrame f = Vectors.decode(Vectors.bytes("dubbo_request_complex.bin"));
        try {
            assertEquals(FrameKind.REQUEST, f.kind());
            assertEquals(2, f.requestId());
            assertEquals("com.example.DemoService", f.service());
            assertEquals("save", f.method());
            assertEquals("1.0.0", f.header("version"));
            assertEquals("g2", f.header("group"));
            assertEquals("12345", f.header("non-string"));
        } finally {
            f.release();
        }
    }

    @Test
    void decodesMosnComplexCapture() {
        DubboFrame f = Vectors.decode(Vectors.bytes("mosn_dubbo_complexData.bin"));
        try {
            assertEquals(10, f.requestId());
            assertEquals("com.dmall.dsf.zone.proxy.service.ProxyInterface", f.service());
            assertEquals("unitTestByUnit", f.method());
            assertEquals("0.0.0", f.header("version"));
            assertEquals("2.0.2", f.header("dubbo"));
            assertEquals("3000", f.header("timeout"));
            assertEquals("com.dmall.dsf.zone.proxy.service.ProxyInterface", f.header("interface"));
            assertNull(f.header("remote.flag_code"));
            Map<String, String> all = new LinkedHashMap<>();
            DubboBody.walkRequest(f.content(), 16, f.content().writerIndex(), all::put);
            assertEquals(18, all.size());
            assertTrue(all.containsKey("remote.flag_code"));
        } catch (HessianFormatException e) {
            throw new AssertionError(e);
        } finally {
            f.release();
        }
    }

    @Test
    void decodesMosnDubbo262Capture() {
        DubboFrame f = Vectors.decode(Vectors.bytes("mosn_dubbo_benchmarkData.bin"));
        try {
            assertEquals(76, f.requestId());
            assertEquals("2.6.2", f.header("dubbo"));
            assertEquals("com.raycloud.notify.api.service.NotifyJobRequest", f.service());
            assertEquals("2.0.1-vpc-test", f.header("version"));
            assertEquals("stopNotifyJob", f.method());
            assertEquals("5000", f.header("timeout"));
            for (String k : new String[] {"a.s.u", "a.s.t", "a.s.d", "path", "dubboApplication", "interface"}) {
                assertTrue(f.header(k) != null, k);
            }
        } finally {
            f.release();
        }
    }

    /** The skipper lands exactly on the body end and agrees with hessian-lite's generic reader on the attachments. */
    @ParameterizedTest
    @ValueSource(strings = {"dubbo_request_sayHello.bin", "dubbo_request_sayHello_oneway.bin", "dubbo_request_complex.bin",
        "mosn_dubbo_complexData.bin", "mosn_dubbo_benchmarkData.bin"})
    void skipperLandsOnRequestBodyEndAndMatchesHessianLite(String name) throws Exception {
        byte[] frame = Vectors.bytes(name);
        ByteBuf body = Unpooled.wrappedBuffer(frame, 16, frame.length - 16);
        Map<String, String> ours = new HashMap<>();
        int end = DubboBody.walkRequest(body, 0, body.capacity(), ours::put);
        assertEquals(body.capacity(), end);

        Hessian2Input in = new Hessian2Input(new ByteArrayInputStream(frame, 16, frame.length - 16));
        in.readString();
        in.readString();
        in.readString();
        in.readString();
        String desc = in.readString();
        for (int i = 0; i < Hessian2Cursor.countArguments(desc); i++) {
            in.readObject();
        }
        Map<?, ?> theirs = (Map<?, ?>) in.readObject();
        assertEquals(theirs.size(), ours.size());
        for (Map.Entry<?, ?> e : theirs.entrySet()) {
            Object v = e.getValue();
            assertEquals(v == null ? null : String.valueOf(v), ours.get((String) e.getKey()), String.valueOf(e.getKey()));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"dubbo_response_ok.bin", "dubbo_response_ok_noattach.bin", "dubbo_response_null.bin",
        "dubbo_response_exception.bin"})
    void skipperLandsOnOkResponseBodyEnd(String name) throws Exception {
        byte[] frame = Vectors.bytes(name);
        ByteBuf body = Unpooled.wrappedBuffer(frame, 16, frame.length - 16);
        Map<String, String> att = new HashMap<>();
        assertEquals(body.capacity(), DubboBody.walkOkResponse(body, 0, body.capacity(), att::put));
        if (!name.contains("noattach") && !name.contains("exception")) {
            assertEquals("2.0.2", att.get("dubbo"));
        }
    }

    /** Patching the same id back must give the identical bytes: the body is forwarded untouched. */
    @ParameterizedTest
    @ValueSource(strings = {"dubbo_request_sayHello.bin", "dubbo_request_sayHello_oneway.bin", "dubbo_request_complex.bin",
        "mosn_dubbo_complexData.bin", "mosn_dubbo_benchmarkData.bin", "dubbo_response_ok.bin",
        "dubbo_response_ok_noattach.bin", "dubbo_response_null.bin", "dubbo_response_exception.bin",
        "dubbo_response_service_not_found.bin", "dubbo_response_threadpool_exhausted.bin"})
    void reencodesByteForByte(String name) {
        byte[] frame = Vectors.bytes(name);
        DubboFrame f = Vectors.decode(frame);
        f.header("group"); // force the lazy parse: it must not change a byte
        long id = f.requestId();
        byte[] out = Vectors.toBytes(f.isRequest() ? Vectors.CODEC.encodeRequest(f, id, 1234)
                : Vectors.CODEC.encodeResponse(f, id));
        assertArrayEquals(frame, out);
    }

    @Test
    void patchesOnlyTheIdBytes() {
        byte[] frame = Vectors.bytes("dubbo_request_sayHello.bin");
        DubboFrame f = Vectors.decode(frame);
        byte[] out = Vectors.toBytes(Vectors.CODEC.encodeRequest(f, 0x0102030405060708L, -1));
        byte[] expected = frame.clone();
        for (int i = 0; i < 8; i++) {
            expected[4 + i] = (byte) (i + 1);
        }
        assertArrayEquals(expected, out);
    }

    @Test
    void classifiesResponses() {
        check("dubbo_response_ok.bin", 20, ResponseClass.OK);
        check("dubbo_response_null.bin", 20, ResponseClass.OK);
        check("dubbo_response_exception.bin", 20, ResponseClass.BUSINESS_ERROR);
        check("dubbo_response_service_not_found.bin", 60, ResponseClass.RPC_ERROR);
        check("dubbo_response_threadpool_exhausted.bin", 100, ResponseClass.RPC_ERROR);
        byte[] timeout = Vectors.bytes("dubbo_response_threadpool_exhausted.bin");
        timeout[3] = 31;
        DubboFrame f = Vectors.decode(timeout);
        assertEquals(ResponseClass.TIMEOUT, f.responseClass());
        f.release();
        timeout[3] = (byte) 201; // unknown status passes through
        f = Vectors.decode(timeout);
        assertEquals(201, f.status());
        assertEquals(ResponseClass.RPC_ERROR, f.responseClass());
        assertArrayEquals(timeout, Vectors.toBytes(Vectors.CODEC.encodeResponse(f, f.requestId())));
    }

    private static void check(String name, int status, ResponseClass rc) {
        DubboFrame f = Vectors.decode(Vectors.bytes(name));
        try {
            assertEquals(FrameKind.RESPONSE, f.kind());
            assertEquals(1, f.requestId());
            assertEquals(status, f.status());
            assertEquals(rc, f.responseClass());
            assertNull(f.service());
        } finally {
            f.release();
        }
    }

    @Test
    void classifiesEvents() {
        DubboFrame hb = Vectors.decode(Vectors.bytes("dubbo_heartbeat_request.bin"));
        assertEquals(FrameKind.HEARTBEAT, hb.kind());
        assertEquals(9, hb.requestId());
        assertArrayEquals(Vectors.bytes("dubbo_heartbeat_response.bin"),
                Vectors.toBytes(Vectors.CODEC.heartbeatAck(hb, ByteBufAllocator.DEFAULT)));
        hb.release();
        DubboFrame ack = Vectors.decode(Vectors.bytes("dubbo_heartbeat_response.bin"));
        assertEquals(FrameKind.HEARTBEAT_ACK, ack.kind());
        ack.release();
        DubboFrame ro = Vectors.decode(Vectors.bytes("dubbo_readonly_event.bin"));
        assertEquals(FrameKind.DRAIN, ro.kind());
        assertEquals(10, ro.requestId());
        ro.release();
        byte[] w = Vectors.bytes("dubbo_readonly_event.bin");
        w[17] = 'W';
        DubboFrame writable = Vectors.decode(w);
        assertEquals(FrameKind.OTHER_EVENT, writable.kind());
        writable.release();
        assertArrayEquals(Vectors.bytes("dubbo_heartbeat_request.bin"),
                Vectors.toBytes(Vectors.CODEC.heartbeat(9, ByteBufAllocator.DEFAULT)));
    }

    @Test
    void buildsTheGoldenErrorResponses() {
        DubboFrame req = Vectors.decode(Vectors.bytes("dubbo_request_sayHello.bin"));
        try {
            assertArrayEquals(Vectors.bytes("dubbo_response_service_not_found.bin"), Vectors.toBytes(
                    Vectors.CODEC.errorResponse(req, ProxyError.NO_ROUTE,
                            "proxy: no route for com.example.DemoService:1.0.0 (group g1)", ByteBufAllocator.DEFAULT)));
            assertArrayEquals(Vectors.bytes("dubbo_response_threadpool_exhausted.bin"), Vectors.toBytes(
                    Vectors.CODEC.errorResponse(req, ProxyError.RATE_LIMITED, "proxy: rate limited",
                            ByteBufAllocator.DEFAULT)));
        } finally {
            req.release();
        }
    }
}
