package io.remora.dubbo;

import static io.remora.dubbo.DubboWire.HEADER_LENGTH;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.TooLongFrameException;
import io.remora.core.protocol.FrameKind;
import io.remora.core.protocol.Utf8Cache;
import java.util.List;

/**
 * Splits a byte stream into {@link DubboFrame}s by the 16-byte header: checks the magic and the declared length
 * against the maximum before waiting for (or allocating) the body, then emits a retained slice of the frame. The body
 * is not looked at here except for the one or two bytes that classify events. After a malformed frame the stream
 * cannot be resynchronised: the rest is discarded and the connection's handler closes it.
 */
final class DubboFrameDecoder extends ByteToMessageDecoder {

    private final int maxFrameBytes;
    /** Service path, version, method and dubbo version repeat on a connection: decoded once, not per request. */
    private final Utf8Cache strings = new Utf8Cache();
    private boolean broken;

    DubboFrameDecoder(int maxFrameBytes) {
        this.maxFrameBytes = maxFrameBytes;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (broken) {
            in.skipBytes(in.readableBytes());
            return;
        }
        int r = in.readerIndex();
        int readable = in.readableBytes();
        if (readable >= 1 && in.getUnsignedByte(r) != DubboWire.MAGIC_HIGH
                || readable >= 2 && in.getUnsignedByte(r + 1) != DubboWire.MAGIC_LOW) {
            broken = true;
            int b0 = in.getUnsignedByte(r);
            in.skipBytes(readable);
            throw new CorruptedFrameException("not a dubbo frame: bad magic (first byte 0x" + Integer.toHexString(b0)
                    + ")");
        }
        if (readable < HEADER_LENGTH) {
            return;
        }
        long bodyLength = in.getUnsignedInt(r + DubboWire.OFFSET_LENGTH);
        long frameLength = HEADER_LENGTH + bodyLength;
        if (bodyLength > Integer.MAX_VALUE || frameLength > maxFrameBytes) {
            broken = true;
            in.skipBytes(readable);
            if (bodyLength > Integer.MAX_VALUE) {
                throw new CorruptedFrameException("dubbo frame declares a negative body length " + (int) bodyLength);
            }
            throw new TooLongFrameException("dubbo frame of " + frameLength + " bytes exceeds the limit of "
                    + maxFrameBytes);
        }
        if (readable < frameLength) {
            return;
        }
        int flag = in.getUnsignedByte(r + DubboWire.OFFSET_FLAG);
        int status = in.getUnsignedByte(r + DubboWire.OFFSET_STATUS);
        long id = in.getLong(r + DubboWire.OFFSET_ID);
        FrameKind kind = classify(in, r, flag, (int) bodyLength);
        ByteBuf frame = in.readRetainedSlice((int) frameLength); // ownership moves to the DubboFrame
        DubboFrame f = DubboFrame.of(frame, kind, flag, status, id);
        f.strings = strings;
        out.add(f);
    }

    private static FrameKind classify(ByteBuf in, int r, int flag, int bodyLength) {
        boolean request = (flag & DubboWire.FLAG_REQUEST) != 0;
        boolean event = (flag & DubboWire.FLAG_EVENT) != 0;
        if (!event) {
            if (!request) {
                return FrameKind.RESPONSE;
            }
            return (flag & DubboWire.FLAG_TWOWAY) != 0 ? FrameKind.REQUEST : FrameKind.ONEWAY;
        }
        if (!request) {
            return FrameKind.HEARTBEAT_ACK; // a response event is the answer to a heartbeat
        }
        int body = r + HEADER_LENGTH;
        if (bodyLength == 1 && in.getUnsignedByte(body) == DubboWire.HESSIAN_NULL) {
            return FrameKind.HEARTBEAT;
        }
        if (bodyLength == 2 && in.getUnsignedByte(body) == 0x01) {
            int c = in.getUnsignedByte(body + 1);
            if (c == 'R') {
                return FrameKind.DRAIN;
            }
            if (c == 'W') {
                return FrameKind.OTHER_EVENT;
            }
        }
        boolean hessian = (flag & DubboWire.SERIALIZATION_MASK) == DubboWire.HESSIAN2;
        // Other serializations write null differently; a two-way event from them can only be a heartbeat.
        if (!hessian && (flag & DubboWire.FLAG_TWOWAY) != 0) {
            return FrameKind.HEARTBEAT;
        }
        return FrameKind.OTHER_EVENT;
    }
}
