package io.remora.core.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.DecoderException;
import io.remora.core.protocol.Detection;
import io.remora.core.protocol.RpcCodec;
import java.util.List;

/**
 * First handler of an auto-detecting listener: asks each protocol plugin about the first bytes, then replaces itself
 * with that protocol's decoder and the engine handler, handing over the bytes read so far. No protocol names here.
 */
final class ProtocolDetector extends ByteToMessageDecoder {

    private static final int MAX_DETECT_BYTES = 64;

    private final ListenerSlot slot;
    private final ListenerManager manager;

    ProtocolDetector(ListenerSlot slot, ListenerManager manager) {
        this.slot = slot;
        this.manager = manager;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        boolean needMore = false;
        for (RpcCodec codec : slot.spec().codecs()) {
            Detection d = codec.protocol().detect(in);
            if (d == Detection.MATCH) {
                manager.installProtocol(ctx.pipeline(), slot, codec, ctx.name());
                return; // ByteToMessageDecoder hands the cumulated bytes to the next handler on removal
            }
            needMore |= d == Detection.NEED_MORE_DATA;
        }
        if (!needMore || in.readableBytes() >= MAX_DETECT_BYTES) {
            in.skipBytes(in.readableBytes());
            throw new DecoderException("no protocol on listener " + slot.name() + " recognises the first bytes");
        }
    }
}
