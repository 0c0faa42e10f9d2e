package io.remora.bolt;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandler;
import io.remora.core.protocol.ProtocolOptions;
import io.remora.core.protocol.ProxyError;
import io.remora.core.protocol.RpcCodec;
import io.remora.core.protocol.RpcFrame;
import java.util.Objects;

/**
 * Bolt v1/v2 codec (see the package README and {@link BoltProtocol} for the full behaviour).
 *
 * <p>Forwarding is zero copy: the id (offset 5 in v1, 6 in v2) and the request timeout (offset 10 / 12) are
 * patched in the received bytes, and the CRC32 trailer of v2 {@code ver1=2} frames is recomputed after the patch.
 *
 * <p>Errors the sidecar answers itself: {@link ProxyError#TIMEOUT} becomes the status-only reply {@code 0x0007
 * TIMEOUT} (SOFARPC throws {@code SofaTimeOutException}); every other error becomes a SUCCESS reply carrying
 * {@code SofaResponse{isError=true, errorMsg=message}}, the only way a SOFARPC caller sees our text. A plain bolt
 * {@code RpcClient} without SOFARPC on its class path cannot deserialize that body and gets a deserialization error
 * instead: acceptable, since such clients have no error-message channel anyway.
 */
final class BoltCodec implements RpcCodec {

    private final BoltProtocol protocol;
    private final ProtocolOptions options;

    BoltCodec(BoltProtocol protocol, ProtocolOptions options) {
        this.protocol = Objects.requireNonNull(protocol, "protocol");
        this.options = Objects.requireNonNull(options, "options");
    }

    @Override
    public BoltProtocol protocol() {
        return protocol;
    }

    @Override
    public ChannelHandler newDecoder() {
        return new BoltFrameDecoder(protocol, options.maxFrameBytes());
    }

    /** Bolt peers keep ids in a Java int and some treat negative ones specially: stay positive. */
    @Override
    public long maxRequestId() {
        return Integer.MAX_VALUE;
    }

    @Override
    public ByteBuf encodeRequest(RpcFrame request, long upstreamId, int timeoutMillis) {
        BoltFrame f = bolt(request);
        ByteBuf b = f.content();
        b.setInt(BoltWire.idOffset(f.v2()), (int) upstreamId);
        if (timeoutMillis >= 0 && f.isRequestType() && f.cmdCode() == BoltWire.CMD_REQUEST) {
            b.setInt(BoltWire.timeoutOrStatusOffset(f.v2()), timeoutMillis);
        }
        return handOver(f);
    }

    @Override
    public ByteBuf encodeResponse(RpcFrame response, long downstreamId) {
        BoltFrame f = bolt(response);
        f.content().setInt(BoltWire.idOffset(f.v2()), (int) downstreamId);
        return handOver(f);
    }

    /** Recomputes the CRC if the frame has one and moves the caller's reference to the returned bytes. */
    private static ByteBuf handOver(BoltFrame f) {
        if (f.crcPresent()) {
            BoltWire.writeCrc(f.content(), f.length());
        }
        return f.handOver();
    }

    private static BoltFrame bolt(RpcFrame frame) {
        if (frame instanceof BoltFrame f) {
            return f;
        }
        frame.release(); // we own it, even when we cannot encode it
        throw new IllegalArgumentException("not a bolt frame: " + frame);
    }

    @Override
    public ByteBuf heartbeatAck(RpcFrame heartbeat, ByteBufAllocator alloc) {
        return statusOnly((BoltFrame) heartbeat, BoltWire.CMD_HEARTBEAT, BoltWire.STATUS_SUCCESS, alloc);
    }

    /** A v1 heartbeat exactly like bolt's {@code HeartbeatCommand}: type REQUEST, cmdcode 0, timeout -1. */
    @Override
    public ByteBuf heartbeat(long id, ByteBufAllocator alloc) {
        ByteBuf b = alloc.buffer(BoltWire.V1_REQUEST_HEADER);
        b.writeByte(BoltWire.PROTO_V1);
        b.writeByte(BoltWire.TYPE_REQUEST);
        b.writeShort(BoltWire.CMD_HEARTBEAT);
        b.writeByte(BoltWire.VER2);
        b.writeInt((int) id);
        b.writeByte(BoltWire.CODEC_HESSIAN2);
        b.writeInt(-1);
        b.writeShort(0);
        b.writeShort(0);
        b.writeInt(0);
        return b;
    }

    @Override
    public ByteBuf errorResponse(RpcFrame request, ProxyError error, String message, ByteBufAllocator alloc) {
        BoltFrame f = (BoltFrame) request;
        if (error == ProxyError.TIMEOUT) {
            return statusOnly(f, BoltWire.CMD_RESPONSE, BoltWire.STATUS_TIMEOUT, alloc);
        }
        return sofaError(f, message, alloc);
    }

    /** A valid non-success bolt status is sent as is (status only); anything else falls back to the message reply. */
    @Override
    public ByteBuf errorResponse(RpcFrame request, ProxyError error, String message, int nativeStatus,
                                 ByteBufAllocator alloc) {
        if (nativeStatus != BoltWire.STATUS_SUCCESS && BoltWire.isValidStatus(nativeStatus)) {
            return statusOnly((BoltFrame) request, BoltWire.CMD_RESPONSE, nativeStatus, alloc);
        }
        return sofaError((BoltFrame) request, message, alloc);
    }

    /** An empty response (protocols.md §1.7a): same proto, ver1, switch, id and serializer as the request. */
    static ByteBuf statusOnly(BoltFrame req, int cmdCode, int status, ByteBufAllocator alloc) {
        int len = BoltWire.fixedHeader(req.v2(), false) + (req.crcPresent() ? BoltWire.CRC_BYTES : 0);
        ByteBuf b = alloc.buffer(len);
        writeResponseHeader(b, req, cmdCode, req.serializer(), status, 0, 0, 0);
        finish(b, req);
        return b;
    }

    /** SUCCESS carrying {@code SofaResponse{isError=true, errorMsg=message}} (protocols.md §1.7b). */
    static ByteBuf sofaError(BoltFrame req, String message, ByteBufAllocator alloc) {
        int contentLen = SofaErrorBody.contentLength(message);
        int classLen = SofaErrorBody.CLASS_BYTES.length;
        int headerLen = SofaErrorBody.HEADER_BYTES.length;
        int len = BoltWire.fixedHeader(req.v2(), false) + classLen + headerLen + contentLen
                + (req.crcPresent() ? BoltWire.CRC_BYTES : 0);
        ByteBuf b = alloc.buffer(len);
        writeResponseHeader(b, req, BoltWire.CMD_RESPONSE, BoltWire.CODEC_HESSIAN2, BoltWire.STATUS_SUCCESS,
                classLen, headerLen, contentLen);
        b.writeBytes(SofaErrorBody.CLASS_BYTES);
        b.writeBytes(SofaErrorBody.HEADER_BYTES);
        SofaErrorBody.write(b, message);
        finish(b, req);
        return b;
    }

    private static void writeResponseHeader(ByteBuf b, BoltFrame req, int cmdCode, byte serializer, int status,
                                            int classLen, int headerLen, int contentLen) {
        boolean v2 = req.v2();
        b.writeByte(v2 ? BoltWire.PROTO_V2 : BoltWire.PROTO_V1);
        if (v2) {
            b.writeByte(req.ver1());
        }
        b.writeByte(BoltWire.TYPE_RESPONSE);
        b.writeShort(cmdCode);
        b.writeByte(BoltWire.VER2);
        b.writeInt((int) req.requestId());
        b.writeByte(serializer);
        if (v2) {
            b.writeByte(req.switchByte());
        }
        b.writeShort(status);
        b.writeShort(classLen);
        b.writeShort(headerLen);
        b.writeInt(contentLen);
    }

    private static void finish(ByteBuf b, BoltFrame req) {
        if (req.crcPresent()) {
            b.writeInt(BoltWire.crc32(b, b.readerIndex(), b.readableBytes()));
        }
    }
}
