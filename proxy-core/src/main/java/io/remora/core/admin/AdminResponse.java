package io.remora.core.admin;

import java.util.Map;

/** An admin answer. Bodies are small; they are built as strings. {@code headers} are extra response headers. */
public record AdminResponse(int status, String contentType, String body, Map<String, String> headers) {

    public static final String TEXT = "text/plain; charset=utf-8";
    public static final String JSON = "application/json";

    public AdminResponse {
        headers = headers == null ? Map.of() : Map.copyOf(headers);
    }

    /** An answer without extra headers (kept for code that builds answers positionally). */
    public AdminResponse(int status, String contentType, String body) {
        this(status, contentType, body, Map.of());
    }

    public static AdminResponse json(String body) {
        return new AdminResponse(200, JSON, body);
    }

    public static AdminResponse text(String body) {
        return new AdminResponse(200, TEXT, body);
    }

    public static AdminResponse error(int status, String message) {
        return new AdminResponse(status, TEXT, message + "\n");
    }

    /** This answer with one more header. */
    public AdminResponse withHeader(String name, String value) {
        Map<String, String> h = new java.util.LinkedHashMap<>(headers);
        h.put(name, value);
        return new AdminResponse(status, contentType, body, h);
    }
}
