package io.remora.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

class Http1ClientCodecTest {

    private static EmbeddedChannel channel() {
        return new EmbeddedChannel(new Http1ClientCodec(new HttpDecoderConfig()
                .setTrailersFactory(HttpHeadersUtil.SMALL_TRAILERS)));
    }

    private static void send(EmbeddedChannel ch, HttpMethod m) {
        ch.writeOutbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, m, "/x"));
        ByteBuf out;
        while ((out = ch.readOutbound()) != null) {
            out.release();
        }
    }

    private static void feed(EmbeddedChannel ch, String s) {
        ch.writeInbound(Unpooled.copiedBuffer(s, StandardCharsets.US_ASCII));
    }

    @Test
    void headResponseHasNoBodyDespiteContentLength() {
        EmbeddedChannel ch = channel();
        send(ch, HttpMethod.HEAD);
        send(ch, HttpMethod.GET);
        feed(ch, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"
                + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi");
        HttpResponse first = ch.readInbound();
        assertEquals("5", first.headers().get("content-length"));
        Object end = ch.readInbound();
        assertTrue(end instanceof LastHttpContent);
        assertFalse(((LastHttpContent) end).content().isReadable());
        ReferenceCountUtil.release(end);
        ReferenceCountUtil.release(ch.readInbound()); // second head
        HttpContent body = ch.readInbound();
        assertEquals("hi", body.content().toString(StandardCharsets.US_ASCII));
        body.release();
        assertNull(ch.readInbound());
        assertFalse(ch.finish());
    }

    @Test
    void informationalResponseDoesNotConsumeTheRequestMethod() {
        EmbeddedChannel ch = channel();
        send(ch, HttpMethod.HEAD);
        feed(ch, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n");
        Object o;
        int heads = 0;
        while ((o = ch.readInbound()) != null) {
            if (o instanceof HttpResponse) {
                heads++;
            }
            if (o instanceof HttpContent c) {
                assertFalse(c.content().isReadable());
            }
            ReferenceCountUtil.release(o);
        }
        assertEquals(2, heads);
        assertFalse(ch.finish());
    }

    @Test
    void commonHeaderNamesAreSharedConstantsWithTheirCaseKept() {
        EmbeddedChannel ch = channel();
        send(ch, HttpMethod.GET);
        feed(ch, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\ncontent-length: 0\r\nX-Odd: 1\r\n\r\n");
        HttpResponse r = ch.readInbound();
        String[] names = new String[3];
        int i = 0;
        java.util.Iterator<Map.Entry<CharSequence, CharSequence>> it = r.headers().iteratorCharSequence();
        while (it.hasNext()) {
            names[i++] = it.next().getKey().toString();
        }
        assertEquals("Content-Type", names[0]);
        assertEquals("content-length", names[1]);
        assertEquals("X-Odd", names[2]);
        byte[] raw = "Content-Type".getBytes(StandardCharsets.US_ASCII);
        assertSame(Http1ClientCodec.KnownNames.find(raw, 0, raw.length),
                Http1ClientCodec.KnownNames.find(raw, 0, raw.length));
        assertNull(Http1ClientCodec.KnownNames.find("Content-Typf".getBytes(StandardCharsets.US_ASCII), 0, 12));
        assertEquals(new AsciiString("Content-Type"), Http1ClientCodec.KnownNames.find(raw, 0, raw.length));
        ReferenceCountUtil.release(ch.readInbound());
        assertFalse(ch.finish());
    }
}
