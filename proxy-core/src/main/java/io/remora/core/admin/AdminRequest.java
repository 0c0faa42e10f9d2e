package io.remora.core.admin;

import java.util.List;
import java.util.Map;

/** A parsed admin request: method, path without query, decoded query parameters, body as UTF-8 text. */
public record AdminRequest(String method, String path, Map<String, List<String>> query, String body) {

    /** The first value of query parameter {@code name}, or {@code defaultValue}. */
    public String param(String name, String defaultValue) {
        List<String> v = query.get(name);
        return v == null || v.isEmpty() ? defaultValue : v.get(0);
    }
}
