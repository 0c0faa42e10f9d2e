package io.remora.dubbo;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.remora.core.protocol.ProtocolOptions;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;

/** Golden frames from src/test/resources/vectors (copied from /work/shared/vectors) and decode helpers. */
final class Vectors {

    static final DubboCodec CODEC = (DubboCodec) new DubboProtocol().codec(ProtocolOptions.DEFAULTS);

    private Vectors() {
    }

    static byte[] bytes(String name) {
        try (InputStream in = Vectors.class.getResourceAsStream("/vectors/" + name)) {
            if (in == null) {
                throw new IllegalArgumentException("no vector " + name);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Decodes exactly one frame from {@code frame}; the caller releases it. */
    static DubboFrame decode(byte[] frame) {
        EmbeddedChannel ch = new EmbeddedChannel(CODEC.newDecoder());
        ch.writeInbound(Unpooled.wrappedBuffer(frame));
        DubboFrame f = ch.readInbound();
        if (ch.readInbound() != null) {
            throw new AssertionError("more than one frame");
        }
        ch.finishAndReleaseAll();
        return f;
    }

    static byte[] toBytes(ByteBuf b) {
        try {
            return ByteBufUtil.getBytes(b);
        } finally {
            b.release();
        }
    }

    static Map<String, String> headers(DubboFrame f) {
        Map<String, String> m = new LinkedHashMap<>();
        f.forEachHeader(m::put);
        return m;
    }
}
