package io.remora.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.remora.core.protocol.RequestHeaders;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * The routing view of an HTTP request. {@code service()} is the host (Host header / :authority) without port, lower
 * case; {@code method()} the HTTP method; {@code path()} the path without query. Pseudo headers: {@code :path} (the
 * full request target), {@code :authority}, {@code :method}, {@code :scheme}, and for gRPC {@code :grpc-service} and
 * {@code :grpc-method} (from {@code /package.Service/Method}). Caller app: {@code x-caller-app}; trace id: the request
 * id header.
 */
final class HttpRequestView implements RequestHeaders {

    static final String CALLER_APP_HEADER = "x-caller-app";

    private final HttpRequest request;
    /** The h2 header block when the request came over HTTP/2 ({@link #request} is then null). */
    private final io.netty.handler.codec.http2.Http2Headers h2;
    private final String protocol;
    private final String requestIdHeader;
    private String host;
    private String path;

    HttpRequestView(HttpRequest request, String protocol, String requestIdHeader) {
        this.request = request;
        this.h2 = null;
        this.protocol = protocol;
        this.requestIdHeader = requestIdHeader;
    }

    HttpRequestView(io.netty.handler.codec.http2.Http2Headers h2, String requestIdHeader) {
        this.request = null;
        this.h2 = h2;
        this.protocol = "http2";
        this.requestIdHeader = requestIdHeader;
    }

    private String get(String name) {
        if (h2 == null) {
            return request.headers().get(name);
        }
        CharSequence v = h2.get(lowerCase(name));
        return v == null ? null : v.toString();
    }

    private static CharSequence lowerCase(String name) {
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c >= 'A' && c <= 'Z') {
                return name.toLowerCase(Locale.ROOT);
            }
        }
        return name;
    }

    /** The request target ({@code :path}). */
    String uri() {
        if (h2 == null) {
            return request.uri();
        }
        CharSequence p = h2.path();
        return p == null ? "/" : p.toString();
    }

    private String authority() {
        if (h2 == null) {
            return request.headers().get(HttpHeaderNames.HOST);
        }
        CharSequence a = h2.authority();
        if (a == null) {
            a = h2.get(HttpHeaderNames.HOST);
        }
        return a == null ? null : a.toString();
    }

    @Override
    public String protocol() {
        return protocol;
    }

    @Override
    public String service() {
        String h = host;
        if (h == null) {
            String authority = authority();
            if (authority == null) {
                return null;
            }
            HostCache c = lastHost;
            if (c != null && c.authority.equals(authority)) {
                h = host = c.host;
            } else {
                h = host = stripPort(authority).toLowerCase(Locale.ROOT);
                lastHost = new HostCache(authority, h);
            }
        }
        return h;
    }

    /**
     * The last authority seen and its routing host: callers mostly send one Host, so its substring and lower-casing
     * are not redone per request. Shared by the loops without locks: an immutable record behind a plain field (a
     * stale or lost entry only costs a recomputation).
     */
    private static HostCache lastHost;

    private record HostCache(String authority, String host) {
    }

    static String stripPort(String authority) {
        if (authority.startsWith("[")) {
            int end = authority.indexOf(']');
            return end < 0 ? authority : authority.substring(0, end + 1);
        }
        int colon = authority.lastIndexOf(':');
        return colon < 0 ? authority : authority.substring(0, colon);
    }

    @Override
    public String method() {
        if (h2 != null) {
            CharSequence m = h2.method();
            return m == null ? "GET" : m.toString();
        }
        return request.method().name();
    }

    @Override
    public String path() {
        String p = path;
        if (p == null) {
            String uri = uri();
            int start = 0;
            int scheme = uri.indexOf("://");
            if (scheme > 0 && !uri.startsWith("/")) {
                int slash = uri.indexOf('/', scheme + 3);
                start = slash < 0 ? uri.length() : slash;
            }
            int q = uri.indexOf('?', start);
            int end = q < 0 ? uri.length() : q;
            p = path = start == end ? "/" : uri.substring(start, end);
        }
        return p;
    }

    @Override
    public String header(String name) {
        if (!name.isEmpty() && name.charAt(0) == ':') {
            return switch (name) {
                case ":path" -> uri();
                case ":authority" -> authority();
                case ":method" -> method();
                case ":scheme" -> "http";
                case ":grpc-service" -> grpcPart(true);
                case ":grpc-method" -> grpcPart(false);
                default -> null;
            };
        }
        return get(name);
    }

    private String grpcPart(boolean service) {
        String p = path();
        int slash = p.indexOf('/', 1);
        if (slash < 0 || !isGrpc()) {
            return null;
        }
        return service ? p.substring(1, slash) : p.substring(slash + 1);
    }

    boolean isGrpc() {
        String ct = get("content-type");
        return ct != null && ct.regionMatches(true, 0, "application/grpc", 0, 16);
    }

    @Override
    public void forEachHeader(BiConsumer<String, String> visitor) {
        if (h2 != null) {
            for (Map.Entry<CharSequence, CharSequence> e : h2) {
                CharSequence n = e.getKey();
                if (n.length() > 0 && n.charAt(0) != ':') {
                    visitor.accept(n.toString(), e.getValue().toString());
                }
            }
            return;
        }
        for (Map.Entry<String, String> e : request.headers()) {
            visitor.accept(e.getKey(), e.getValue());
        }
    }

    @Override
    public String callerApp() {
        return get(CALLER_APP_HEADER);
    }

    @Override
    public String traceId() {
        return requestIdHeader.isEmpty() ? null : get(requestIdHeader);
    }
}
