package io.remora.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import org.junit.jupiter.api.Test;

class HttpHeadersUtilTest {

    @Test
    void stripsHopByHopHeadersAndThoseNamedByConnection() {
        HttpHeaders h = new DefaultHttpHeaders();
        h.add("Host", "a.example");
        h.add("Connection", "keep-alive, X-Secret ,close");
        h.add("connection", "Foo");
        h.add("X-Secret", "1");
        h.add("foo", "2");
        h.add("Keep-Alive", "timeout=5");
        h.add("Transfer-Encoding", "chunked");
        h.add("Upgrade", "h2c");
        h.add("HTTP2-Settings", "AAA");
        h.add("Proxy-Authorization", "basic x");
        h.add("proxy-connection", "keep-alive");
        h.add("x-http2-scheme", "http");
        h.add("X-Http2-Stream-Id", "3");
        h.add("x-keep", "yes");
        h.add("Content-Type", "text/plain");
        HttpHeadersUtil.stripHopByHop(h);
        assertEquals("a.example", h.get("host"));
        assertEquals("yes", h.get("x-keep"));
        assertEquals("text/plain", h.get("content-type"));
        assertEquals(3, h.size(), h.toString());
    }

    @Test
    void keepsTeTrailersOnlyEvenWhenConnectionNamesIt() {
        HttpHeaders h = new DefaultHttpHeaders();
        h.add("Connection", "TE");
        h.add("TE", "trailers, deflate");
        HttpHeadersUtil.stripHopByHop(h);
        assertEquals("trailers", h.get("te"));
        assertFalse(h.contains("connection"));

        HttpHeaders g = new DefaultHttpHeaders();
        g.add("TE", "gzip");
        HttpHeadersUtil.stripHopByHop(g);
        assertNull(g.get("te"));
    }

    @Test
    void leavesPlainHeadersUntouched() {
        HttpHeaders h = new DefaultHttpHeaders();
        h.add("Host", "a");
        h.add("Accept", "*/*");
        h.add("Content-Length", "5");
        HttpHeadersUtil.stripHopByHop(h);
        assertEquals(3, h.size());
    }

    @Test
    void requestIdsAre32LowerHexCharacters() {
        CharSequence id = HttpHeadersUtil.newRequestId();
        assertEquals(32, id.length());
        assertTrue(id.toString().matches("[0-9a-f]{32}"), id.toString());
    }

    @Test
    void smallTrailersStillValidateAndGrow() {
        HttpHeaders t = HttpHeadersUtil.SMALL_TRAILERS.newHeaders();
        for (int i = 0; i < 20; i++) {
            t.add("grpc-x-" + i, "v" + i);
        }
        assertEquals(20, t.size());
        assertEquals("v7", t.get("GRPC-X-7"));
    }
}
