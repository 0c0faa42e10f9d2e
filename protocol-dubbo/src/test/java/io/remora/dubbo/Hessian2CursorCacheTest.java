package io.remora.dubbo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.netty.buffer.ByteBuf;
import io.remora.core.protocol.Utf8Cache;
import java.util.Map;
import org.junit.jupiter.api.Test;

class Hessian2CursorCacheTest {

    private static String[] leading(ByteBuf body, Utf8Cache cache) throws HessianFormatException {
        Hessian2Cursor c = new Hessian2Cursor(body, 0, body.writerIndex());
        return new String[] {c.readString(cache), c.readString(cache), c.readString(cache), c.readString(cache)};
    }

    @Test
    void repeatedLeadingStringsComeFromTheConnectionCache() throws Exception {
        Utf8Cache cache = new Utf8Cache();
        ByteBuf a = HessianBodies.request("com.example.Echo", "1.0", "echo", new Object[] {"x"}, Map.of());
        ByteBuf b = HessianBodies.request("com.example.Echo", "1.0", "echo", new Object[] {"y"}, Map.of());
        try {
            String[] first = leading(a, cache);
            String[] second = leading(b, cache);
            assertEquals("com.example.Echo", first[1]);
            assertEquals("echo", first[3]);
            for (int i = 0; i < 4; i++) {
                assertSame(first[i], second[i], "field " + i + " decoded again");
            }
        } finally {
            a.release();
            b.release();
        }
    }

    @Test
    void nonAsciiAndNullStringsAreDecodedNotCached() throws Exception {
        Utf8Cache cache = new Utf8Cache();
        ByteBuf a = HessianBodies.request("com.例子.Echo", null, "回声", new Object[0], Map.of());
        try {
            String[] f = leading(a, cache);
            assertEquals("com.例子.Echo", f[1]);
            assertNull(f[2]);
            assertEquals("回声", f[3]);
        } finally {
            a.release();
        }
    }
}
