package io.remora.dubbo;

import static io.remora.dubbo.DubboWire.HEADER_LENGTH;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandler;
import io.remora.core.protocol.Protocol;
import io.remora.core.protocol.ProtocolOptions;
import io.remora.core.protocol.ProxyError;
import io.remora.core.protocol.RpcCodec;
import io.remora.core.protocol.RpcFrame;

/**
 * The {@code dubbo://} codec: frames are forwarded byte for byte with only the 8-byte id (offset 4) patched in place;
 * the sidecar's own answers are native Dubbo responses (status byte + Hessian2 string, protocols.md §2.8).
 */
final class DubboCodec implements RpcCodec {

    private final DubboProtocol protocol;
    private final ProtocolOptions options;

    DubboCodec(DubboProtocol protocol, ProtocolOptions options) {
        this.protocol = protocol;
        this.options = options;
    }

    @Override
    public Protocol protocol() {
        return protocol;
    }

    @Override
    public ChannelHandler newDecoder() {
        return new DubboFrameDecoder(options.maxFrameBytes());
    }

    @Override
    public long maxRequestId() {
        return Long.MAX_VALUE;
    }

    /** The timeout lives in an attachment string; it is never rewritten (the route's timeout is enforced here). */
    @Override
    public ByteBuf encodeRequest(RpcFrame request, long upstreamId, int timeoutMillis) {
        return patchId(request, upstreamId);
    }

    @Override
    public ByteBuf encodeResponse(RpcFrame response, long downstreamId) {
        return patchId(response, downstreamId);
    }

    /** Takes the caller's reference to the frame and hands it on as the returned buffer ({@link DubboFrame#handOver}). */
    private static ByteBuf patchId(RpcFrame frame, long id) {
        if (!(frame instanceof DubboFrame f)) {
            frame.release(); // we own it, even when we cannot encode it
            throw new IllegalArgumentException("not a dubbo frame: " + frame);
        }
        f.content().setLong(DubboWire.OFFSET_ID, id);
        return f.handOver();
    }

    /** Flag 0x22, status 20, same id, body a Hessian2 null (what Dubbo's HeartbeatHandler sends). */
    @Override
    public ByteBuf heartbeatAck(RpcFrame heartbeat, ByteBufAllocator alloc) {
        return eventFrame(alloc, DubboWire.FLAG_EVENT | DubboWire.HESSIAN2, DubboWire.OK, heartbeat.requestId());
    }

    /** Flag 0xE2 (request, two-way, event), body a Hessian2 null. */
    @Override
    public ByteBuf heartbeat(long id, ByteBufAllocator alloc) {
        return eventFrame(alloc, DubboWire.FLAG_REQUEST | DubboWire.FLAG_TWOWAY | DubboWire.FLAG_EVENT
                | DubboWire.HESSIAN2, 0, id);
    }

    private static ByteBuf eventFrame(ByteBufAllocator alloc, int flag, int status, long id) {
        ByteBuf b = alloc.buffer(HEADER_LENGTH + 1);
        writeHeader(b, flag, status, id, 1);
        b.writeByte(DubboWire.HESSIAN_NULL);
        return b;
    }

    @Override
    public ByteBuf errorResponse(RpcFrame request, ProxyError error, String message, ByteBufAllocator alloc) {
        return errorResponse(request, error, message, -1, alloc);
    }

    @Override
    public ByteBuf errorResponse(RpcFrame request, ProxyError error, String message, int nativeStatus,
                                 ByteBufAllocator alloc) {
        int status = statusFor(error, nativeStatus);
        String text = message == null ? error.name() : message;
        if (request instanceof DubboFrame f && f.parseProblem() != null
                && (error == ProxyError.NO_ROUTE || error == ProxyError.BAD_REQUEST)) {
            text = text + " (dubbo: " + f.parseProblem() + "; only catch-all routes can match)";
        }
        // The message is always Hessian2, so the header says Hessian2 even for a request in another serialization
        // (every Dubbo consumer can read Hessian2; a fastjson2 reader could not read our Hessian bytes).
        int serialization = DubboWire.HESSIAN2;
        int bodyLength = Hessian2Strings.encodedLength(text);
        ByteBuf b = alloc.buffer(HEADER_LENGTH + bodyLength);
        writeHeader(b, serialization, status, request.requestId(), bodyLength);
        Hessian2Strings.write(b, text);
        return b;
    }

    /** protocols.md §2.8. A valid explicit status (not 20, whose body would need a result flag) wins. */
    static int statusFor(ProxyError error, int nativeStatus) {
        if (nativeStatus >= 0 && nativeStatus <= 255 && nativeStatus != DubboWire.OK) {
            return nativeStatus;
        }
        return switch (error) {
            case NO_ROUTE, NO_HEALTHY_UPSTREAM -> DubboWire.SERVICE_NOT_FOUND;
            case RATE_LIMITED, OVERFLOW, CIRCUIT_OPEN -> DubboWire.SERVER_THREADPOOL_EXHAUSTED_ERROR;
            case TIMEOUT -> DubboWire.SERVER_TIMEOUT;
            case BAD_REQUEST -> DubboWire.BAD_REQUEST;
            case UPSTREAM_RESET, UPSTREAM_CONNECT_FAILURE, UNAUTHORIZED, FAULT_INJECTED, UNAVAILABLE ->
                    DubboWire.SERVER_ERROR;
        };
    }

    private static void writeHeader(ByteBuf b, int flag, int status, long id, int bodyLength) {
        b.writeByte(DubboWire.MAGIC_HIGH);
        b.writeByte(DubboWire.MAGIC_LOW);
        b.writeByte(flag);
        b.writeByte(status);
        b.writeLong(id);
        b.writeInt(bodyLength);
    }
}
