package io.remora.dubbo;

import io.netty.buffer.ByteBuf;
import io.remora.core.protocol.Detection;
import io.remora.core.protocol.Protocol;
import io.remora.core.protocol.ProtocolOptions;
import io.remora.core.protocol.RpcCodec;

/** Apache Dubbo's {@code dubbo://} protocol (Hessian2 bodies), registered as {@code "dubbo"}. */
public final class DubboProtocol implements Protocol {

    public static final String NAME = "dubbo";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Detection detect(ByteBuf firstBytes) {
        int n = firstBytes.readableBytes();
        if (n == 0) {
            return Detection.NEED_MORE_DATA;
        }
        int r = firstBytes.readerIndex();
        if (firstBytes.getUnsignedByte(r) != DubboWire.MAGIC_HIGH) {
            return Detection.NO_MATCH;
        }
        if (n == 1) {
            return Detection.NEED_MORE_DATA;
        }
        return firstBytes.getUnsignedByte(r + 1) == DubboWire.MAGIC_LOW ? Detection.MATCH : Detection.NO_MATCH;
    }

    @Override
    public RpcCodec codec(ProtocolOptions options) {
        return new DubboCodec(this, options);
    }
}
