package io.remora.upgrade;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.remora.core.config.ConfigLoader;
import java.io.IOException;
import org.junit.jupiter.api.Test;

class MsgTest {

    @Test
    void roundTripsTypeMetaAndUnreadBytes() throws IOException {
        Msg m = Msg.of(Msg.Type.OFFER, ConfigLoader.mapper().createObjectNode(), new byte[] {1, 2, 3});
        m.meta().put("id", 7).put("kind", "connection").put("name", "bolt_in");
        ByteBuf b = m.encode(ByteBufAllocator.DEFAULT);
        try {
            assertEquals(b.readableBytes() - 4, b.readInt(), "length prefix counts the rest");
            Msg back = Msg.decode(b);
            assertEquals(Msg.Type.OFFER, back.type());
            assertEquals(7, back.id());
            assertEquals("bolt_in", back.text("name"));
            assertArrayEquals(new byte[] {1, 2, 3}, back.blob());
        } finally {
            b.release();
        }
    }

    @Test
    void rejectsAnotherProtocolVersion() {
        ByteBuf b = Unpooled.buffer().writeByte(2).writeByte(0).writeInt(2).writeBytes("{}".getBytes());
        IOException e = assertThrows(IOException.class, () -> Msg.decode(b));
        assertTrue(e.getMessage().contains("version 2"), e.getMessage());
        b.release();
    }

    @Test
    void rejectsMetaLongerThanTheFrameAndUnknownTypes() {
        ByteBuf tooLong = Unpooled.buffer().writeByte(1).writeByte(0).writeInt(100).writeBytes("{}".getBytes());
        assertThrows(IOException.class, () -> Msg.decode(tooLong));
        tooLong.release();
        ByteBuf badType = Unpooled.buffer().writeByte(1).writeByte(99).writeInt(2).writeBytes("{}".getBytes());
        assertThrows(IOException.class, () -> Msg.decode(badType));
        badType.release();
        ByteBuf notObject = Unpooled.buffer().writeByte(1).writeByte(0).writeInt(2).writeBytes("[]".getBytes());
        assertThrows(IOException.class, () -> Msg.decode(notObject));
        notObject.release();
    }

    @Test
    void settingsDefaultToATempDirNamedAfterTheAdminPortAndAreOffForEphemeralPorts() throws Exception {
        Settings s = Settings.from(ConfigLoader.parse("{\"admin\":{\"port\":34999},\"listeners\":[],\"clusters\":[]}"));
        assertTrue(s.socket().toString().endsWith("remora-34999/remora-upgrade.sock"), s.socket().toString());
        assertEquals(null, Settings.from(ConfigLoader.parse("{\"admin\":{\"port\":0},\"listeners\":[],"
                + "\"clusters\":[]}")));
        Settings custom = Settings.from(ConfigLoader.parse("{\"admin\":{\"port\":0},\"listeners\":[],\"clusters\":[],"
                + "\"extensions\":{\"upgrade\":{\"dir\":\"/var/run/remora\",\"drain_timeout_ms\":2000}}}"));
        assertEquals("/var/run/remora/remora-upgrade.sock", custom.socket().toString());
        assertEquals(2000, custom.drainTimeoutMillis());
    }
}
