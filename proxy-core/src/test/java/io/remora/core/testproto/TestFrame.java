package io.remora.core.testproto;

import io.netty.buffer.ByteBuf;
import io.netty.util.ReferenceCounted;
import io.remora.core.protocol.FrameKind;
import io.remora.core.protocol.ResponseClass;
import io.remora.core.protocol.RpcFrame;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BiConsumer;

/** A decoded {@link TestProtocol} frame. Parses its body eagerly (it is a test protocol). */
public final class TestFrame implements RpcFrame {

    private final ByteBuf content;
    private final int type;
    private final long id;
    private final int timeout;
    private final int status;
    private final String service;
    private final String method;
    private final Map<String, String> headers = new LinkedHashMap<>();
    private final String payload;

    public TestFrame(ByteBuf content) {
        this.content = content;
        int r = content.readerIndex();
        type = content.getByte(r + 1);
        id = content.getLong(r + 2);
        timeout = content.getInt(r + 10);
        status = content.getUnsignedByte(r + 14);
        String body = content.toString(r + TestProtocol.HEADER, content.readableBytes() - TestProtocol.HEADER,
                StandardCharsets.UTF_8);
        String[] parts = body.split("\\|", 4);
        service = parts.length > 0 && !parts[0].isEmpty() ? parts[0] : null;
        method = parts.length > 1 && !parts[1].isEmpty() ? parts[1] : null;
        if (parts.length > 2 && !parts[2].isEmpty()) {
            for (String kv : parts[2].split("&")) {
                int eq = kv.indexOf('=');
                if (eq > 0) {
                    headers.put(kv.substring(0, eq), kv.substring(eq + 1));
                }
            }
        }
        payload = parts.length > 3 ? parts[3] : "";
    }

    public String payload() {
        return payload;
    }

    public int type() {
        return type;
    }

    @Override
    public FrameKind kind() {
        return switch (type) {
            case 0 -> FrameKind.REQUEST;
            case 1 -> FrameKind.RESPONSE;
            case 2 -> FrameKind.ONEWAY;
            case 3 -> FrameKind.HEARTBEAT;
            case 4 -> FrameKind.HEARTBEAT_ACK;
            case 5 -> FrameKind.DRAIN;
            default -> FrameKind.OTHER_EVENT;
        };
    }

    @Override
    public long requestId() {
        return id;
    }

    @Override
    public int timeoutMillis() {
        return timeout;
    }

    @Override
    public ResponseClass responseClass() {
        return status == 0 ? ResponseClass.OK : status == 1 ? ResponseClass.BUSINESS_ERROR : ResponseClass.RPC_ERROR;
    }

    @Override
    public int status() {
        return status;
    }

    @Override
    public ByteBuf content() {
        return content;
    }

    @Override
    public String protocol() {
        return "testrpc";
    }

    @Override
    public String service() {
        return service;
    }

    @Override
    public String method() {
        return method;
    }

    @Override
    public String header(String name) {
        return headers.get(name);
    }

    @Override
    public void forEachHeader(BiConsumer<String, String> visitor) {
        headers.forEach(visitor);
    }

    @Override
    public String callerApp() {
        return headers.get("app");
    }

    @Override
    public int refCnt() {
        return content.refCnt();
    }

    @Override
    public ReferenceCounted retain() {
        content.retain();
        return this;
    }

    @Override
    public ReferenceCounted retain(int increment) {
        content.retain(increment);
        return this;
    }

    @Override
    public ReferenceCounted touch() {
        content.touch();
        return this;
    }

    @Override
    public ReferenceCounted touch(Object hint) {
        content.touch(hint);
        return this;
    }

    @Override
    public boolean release() {
        return content.release();
    }

    @Override
    public boolean release(int decrement) {
        return content.release(decrement);
    }
}
