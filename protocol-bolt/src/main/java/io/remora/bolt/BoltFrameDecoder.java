package io.remora.bolt;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.TooLongFrameException;
import io.remora.core.protocol.FrameKind;
import io.remora.core.protocol.Utf8Cache;
import java.util.List;

/**
 * Frames a Bolt byte stream (v1 and v2 may be mixed, protocols.md §1.2) into {@link BoltFrame}s. Declared lengths
 * are read unsigned and checked against the maximum as soon as the fixed header is in, before waiting for the body;
 * every frame is a retained slice of the cumulation (zero copy); a v2 frame with a CRC32 trailer is checked against
 * it. Malformed input throws a
 * {@link io.netty.handler.codec.DecoderException}: framing is lost, so the engine closes the connection.
 */
final class BoltFrameDecoder extends ByteToMessageDecoder {

    private final BoltProtocol protocol;
    private final int maxFrameBytes;
    private final Utf8Cache strings = new Utf8Cache();

    BoltFrameDecoder(BoltProtocol protocol, int maxFrameBytes) {
        this.protocol = protocol;
        this.maxFrameBytes = maxFrameBytes;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        BoltFrame f = decodeOne(in);
        if (f != null) {
            out.add(f);
        }
    }

    /** One frame from {@code in}, or null when more bytes are needed. Visible for tests. */
    BoltFrame decodeOne(ByteBuf in) {
        int r = in.readerIndex();
        int avail = in.readableBytes();
        if (avail < 1) {
            return null;
        }
        byte proto = in.getByte(r);
        boolean v2;
        if (proto == BoltWire.PROTO_V1) {
            v2 = false;
        } else if (proto == BoltWire.PROTO_V2) {
            v2 = true;
        } else {
            throw corrupt(in, "unknown bolt protocol code 0x%02x", proto & 0xff);
        }
        int base = v2 ? 1 : 0;
        if (avail < 2) {
            return null;
        }
        int ver1 = 1;
        if (v2) {
            ver1 = in.getUnsignedByte(r + 1);
            if (ver1 != 1 && ver1 != 2) {
                throw corrupt(in, "unknown bolt v2 protocol version ver1=%d", ver1);
            }
            if (avail < 3) {
                return null;
            }
        }
        byte type = in.getByte(r + 1 + base);
        boolean request;
        if (type == BoltWire.TYPE_REQUEST || type == BoltWire.TYPE_ONEWAY) {
            request = true;
        } else if (type == BoltWire.TYPE_RESPONSE) {
            request = false;
        } else {
            throw corrupt(in, "unknown bolt command type 0x%02x", type & 0xff);
        }
        int fixed = BoltWire.fixedHeader(v2, request);
        if (avail < fixed) {
            return null;
        }
        int lenOff = r + fixed - 8;
        int classLen = in.getUnsignedShort(lenOff);
        int headerLen = in.getUnsignedShort(lenOff + 2);
        long contentLen = in.getUnsignedInt(lenOff + 4);
        int switchByte = v2 ? in.getUnsignedByte(r + 11) : 0;
        boolean crc = BoltWire.crcPresent(v2, ver1, switchByte);
        long total = fixed + classLen + headerLen + contentLen + (crc ? BoltWire.CRC_BYTES : 0);
        if (total > maxFrameBytes) {
            in.skipBytes(avail); // the stream cannot be resynchronised; the connection is closed
            throw new TooLongFrameException("bolt frame of " + total + " bytes exceeds the limit of "
                    + maxFrameBytes + " bytes");
        }
        int cmd = in.getUnsignedShort(r + 2 + base);
        FrameKind kind = kindOf(in, type, cmd);
        if (avail < total) {
            return null;
        }
        if (crc) {
            // The sidecar recomputes the CRC after patching the id: an unchecked frame would leave with a valid CRC
            // over corrupted bytes. Bolt's own decoder rejects a mismatch (RpcCommandDecoderV2.checkCRC).
            int expected = in.getInt(r + (int) total - BoltWire.CRC_BYTES);
            int actual = BoltWire.crc32(in, r, (int) total - BoltWire.CRC_BYTES);
            if (expected != actual) {
                throw corrupt(in, "bolt v2 CRC32 mismatch: frame says 0x%08x, content is 0x%08x", expected, actual);
            }
        }
        long id = in.getUnsignedInt(r + BoltWire.idOffset(v2));
        int timeoutOrStatus = request ? in.getInt(r + BoltWire.timeoutOrStatusOffset(v2))
                : in.getUnsignedShort(r + BoltWire.timeoutOrStatusOffset(v2));
        ByteBuf slice = in.readRetainedSlice((int) total);
        BoltFrame f = BoltFrame.of(protocol, slice, kind, v2, ver1, type, cmd, id, timeoutOrStatus,
                fixed, classLen, headerLen, crc);
        f.strings = strings;
        return f;
    }

    private static FrameKind kindOf(ByteBuf in, byte type, int cmd) {
        if (cmd == BoltWire.CMD_GOAWAY) {
            return FrameKind.DRAIN;
        }
        switch (type) {
            case BoltWire.TYPE_REQUEST:
                if (cmd == BoltWire.CMD_REQUEST) {
                    return FrameKind.REQUEST;
                }
                if (cmd == BoltWire.CMD_HEARTBEAT) {
                    return FrameKind.HEARTBEAT;
                }
                break;
            case BoltWire.TYPE_ONEWAY:
                if (cmd == BoltWire.CMD_REQUEST) {
                    return FrameKind.ONEWAY;
                }
                if (cmd == BoltWire.CMD_HEARTBEAT) {
                    return FrameKind.OTHER_EVENT; // a oneway heartbeat is never answered
                }
                break;
            default:
                if (cmd == BoltWire.CMD_RESPONSE) {
                    return FrameKind.RESPONSE;
                }
                if (cmd == BoltWire.CMD_HEARTBEAT) {
                    return FrameKind.HEARTBEAT_ACK;
                }
                break;
        }
        throw corrupt(in, "bolt command code %d is not valid for command type 0x%02x", cmd, type & 0xff);
    }

    private static CorruptedFrameException corrupt(ByteBuf in, String format, Object... args) {
        in.skipBytes(in.readableBytes()); // framing is lost; drop what we have so nothing is decoded again
        return new CorruptedFrameException(String.format(format, args));
    }
}
