package io.remora.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.remora.core.protocol.ProxyError;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * The sidecar's own answers: an HTTP status with a one-line text body, or for gRPC a trailers-only response with a
 * {@code grpc-status}. Both carry {@code x-remora-error: <cause>} so callers can tell the sidecar produced them.
 */
final class HttpErrors {

    static final String ERROR_HEADER = "x-remora-error";

    // gRPC status codes
    static final int DEADLINE_EXCEEDED = 4;
    static final int UNKNOWN = 2;
    static final int NOT_FOUND = 5;
    static final int PERMISSION_DENIED = 7;
    static final int RESOURCE_EXHAUSTED = 8;
    static final int INTERNAL = 13;
    static final int UNIMPLEMENTED = 12;
    static final int UNAVAILABLE = 14;

    private HttpErrors() {
    }

    static int httpStatus(ProxyError e, int nativeStatus) {
        if (nativeStatus >= 200 && nativeStatus <= 599) {
            return nativeStatus;
        }
        return switch (e) {
            case UNAUTHORIZED -> 403;
            case NO_ROUTE -> 404;
            case RATE_LIMITED -> 429;
            case NO_HEALTHY_UPSTREAM, CIRCUIT_OPEN, OVERFLOW, UNAVAILABLE, FAULT_INJECTED -> 503;
            case TIMEOUT -> 504;
            case UPSTREAM_RESET, UPSTREAM_CONNECT_FAILURE -> 502;
            case BAD_REQUEST -> 400;
        };
    }

    static int grpcStatus(ProxyError e, int nativeStatus) {
        if (nativeStatus > 0 && nativeStatus <= 16) {
            return nativeStatus;
        }
        return switch (e) {
            case UNAUTHORIZED -> PERMISSION_DENIED;
            case NO_ROUTE -> UNIMPLEMENTED;
            case RATE_LIMITED -> RESOURCE_EXHAUSTED;
            case TIMEOUT -> DEADLINE_EXCEEDED;
            case BAD_REQUEST -> INTERNAL;
            default -> UNAVAILABLE;
        };
    }

    static String cause(ProxyError e) {
        return e.name().toLowerCase(Locale.ROOT);
    }

    static FullHttpResponse http(int status, String cause, String message, ByteBufAllocator alloc) {
        ByteBuf body = message == null ? Unpooled.EMPTY_BUFFER
                : ByteBufUtil.writeUtf8(alloc, "remora: " + cause + ": " + message + "\n");
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status), body);
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
        r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
        r.headers().set(ERROR_HEADER, cause);
        return r;
    }

    /** A trailers-only gRPC response: HTTP 200 headers that end the stream and carry the status. */
    static FullHttpResponse grpc(int grpcStatus, String cause, String message) {
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                Unpooled.EMPTY_BUFFER);
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/grpc");
        r.headers().setInt("grpc-status", grpcStatus);
        if (message != null) {
            r.headers().set("grpc-message", percentEncode("remora: " + cause + ": " + message));
        }
        r.headers().set(ERROR_HEADER, cause);
        return r;
    }

    /** gRPC's grpc-message encoding: percent-encode bytes outside printable ASCII and '%'. */
    static String percentEncode(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        StringBuilder sb = new StringBuilder(b.length + 8);
        for (byte x : b) {
            int c = x & 0xFF;
            if (c >= 0x20 && c <= 0x7E && c != '%') {
                sb.append((char) c);
            } else {
                sb.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xF, 16)));
            }
        }
        return sb.toString();
    }
}
