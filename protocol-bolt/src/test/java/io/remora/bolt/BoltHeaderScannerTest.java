package io.remora.bolt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class BoltHeaderScannerTest {

    /** A v1 request frame with {@code header} as its raw header blob. */
    static byte[] request(String className, byte[] header, byte[] content) {
        byte[] cls = className == null ? new byte[0] : className.getBytes(StandardCharsets.UTF_8);
        ByteBuf b = Unpooled.buffer();
        b.writeBytes(new byte[] {1, 1, 0, 1, 1, 0, 0, 0, 42, 1});
        b.writeInt(1000).writeShort(cls.length).writeShort(header.length).writeInt(content.length);
        b.writeBytes(cls).writeBytes(header).writeBytes(content);
        byte[] out = new byte[b.readableBytes()];
        b.readBytes(out);
        return out;
    }

    static ByteBuf blob() {
        return Unpooled.buffer();
    }

    static ByteBuf str(ByteBuf b, String s) {
        if (s == null) {
            return b.writeInt(-1);
        }
        byte[] u = s.getBytes(StandardCharsets.UTF_8);
        return b.writeInt(u.length).writeBytes(u);
    }

    static byte[] done(ByteBuf b) {
        byte[] out = new byte[b.readableBytes()];
        b.readBytes(out);
        return out;
    }

    @Test
    void skipsPairsWithNegativeLengthsWithoutMisaligning() {
        ByteBuf h = blob();
        str(str(h, null), "orphan-value");
        str(str(h, "nullvalue"), null);
        h.writeInt(-7).writeInt(-7); // any negative length is a null string with no bytes
        str(str(h, "empty"), "");
        str(str(h, "service"), "com.example.Svc:1.0");
        str(str(h, "sofa_head_method_name"), "方法");
        BoltFrame f = BoltFrameDecoderTest.decode(request("x.Req", done(h), new byte[] {1, 2, 3}));
        try {
            assertEquals("com.example.Svc:1.0", f.service());
            assertEquals("方法", f.method());
            assertEquals("", f.header("empty"));
            assertNull(f.header("nullvalue"));
            List<String> seen = new ArrayList<>();
            f.forEachHeader((k, v) -> seen.add(k + "=" + v));
            assertEquals(List.of("empty=", "service=com.example.Svc:1.0", "sofa_head_method_name=方法"), seen);
        } finally {
            f.release();
        }
    }

    @Test
    void readsTraceIdsFromTheNewTracerHeader() {
        ByteBuf h = blob();
        str(str(h, "new_rpc_trace_context"), "tcid=0a0b0c&spid=0.1.2&pspid=0.1&sample=true&");
        BoltFrame f = BoltFrameDecoderTest.decode(request("x.Req", done(h), new byte[0]));
        try {
            assertEquals("0a0b0c", f.traceId());
            assertEquals("0.1.2", f.rpcId());
            assertNull(f.targetApp());
        } finally {
            f.release();
        }
    }

    @Test
    void findsNonAsciiKeys() {
        ByteBuf h = blob();
        str(str(h, "键"), "值");
        BoltFrame f = BoltFrameDecoderTest.decode(request("x.Req", done(h), new byte[0]));
        try {
            assertEquals("值", f.header("键"));
        } finally {
            f.release();
        }
    }

    @Test
    void fallsBackToTargetServiceThenClassName() {
        ByteBuf h = blob();
        str(str(h, "sofa_head_target_service"), "com.example.Old:1.0");
        BoltFrame withTarget = BoltFrameDecoderTest.decode(request("x.Req", done(h), new byte[0]));
        BoltFrame plainBolt = BoltFrameDecoderTest.decode(request("com.example.PlainRequest", new byte[0],
                new byte[] {9}));
        try {
            assertEquals("com.example.Old:1.0", withTarget.service());
            assertEquals("com.example.PlainRequest", plainBolt.service());
            assertNull(plainBolt.method());
            assertNull(plainBolt.callerApp());
        } finally {
            withTarget.release();
            plainBolt.release();
        }
    }

    @Test
    void treatsKeyLengthPastTheEndAsNoHeaders() {
        ByteBuf h = blob();
        str(str(h, "service"), "com.example.Svc:1.0");
        h.writeInt(1000).writeBytes("abc".getBytes(StandardCharsets.UTF_8)); // claims 1000 bytes, has 3
        BoltFrame f = BoltFrameDecoderTest.decode(request("x.Req", done(h), new byte[] {1, 2, 3, 4, 5, 6, 7, 8}));
        try {
            assertEquals("x.Req", f.service()); // malformed header = absent: falls back to the class name
            assertNull(f.header("service"));
            assertNull(f.method());
            List<String> seen = new ArrayList<>();
            f.forEachHeader((k, v) -> seen.add(k));
            assertTrue(seen.isEmpty());
        } finally {
            f.release();
        }
    }

    @Test
    void treatsTruncatedLengthFieldsAsNoHeaders() {
        for (int cut = 1; cut < 4; cut++) {
            ByteBuf h = blob();
            str(str(h, "service"), "a:1.0");
            h.writeBytes(new byte[cut]); // a partial length field at the end
            BoltFrame f = BoltFrameDecoderTest.decode(request(null, done(h), new byte[0]));
            try {
                assertNull(f.service());
                assertNull(f.header("service"));
                assertNull(f.callerApp());
            } finally {
                f.release();
            }
        }
        ByteBuf h = blob();
        str(h, "service"); // a key without a value
        BoltFrame f = BoltFrameDecoderTest.decode(request(null, done(h), new byte[0]));
        try {
            assertNull(f.header("service"));
        } finally {
            f.release();
        }
    }

    @Test
    void valueLengthMayNotReachIntoTheContent() {
        ByteBuf h = blob();
        str(h, "service");
        h.writeInt(8).writeBytes("ab".getBytes(StandardCharsets.UTF_8)); // 8 claimed, 2 in the header, 6 in content
        BoltFrame f = BoltFrameDecoderTest.decode(request("x.Req", done(h), "cdefgh".getBytes(StandardCharsets.UTF_8)));
        try {
            assertNull(f.header("service"));
            assertEquals("x.Req", f.service());
        } finally {
            f.release();
        }
    }
}
