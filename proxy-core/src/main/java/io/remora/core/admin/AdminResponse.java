package io.remora.core.admin;

/** An admin answer. Bodies are small; they are built as strings. */
public record AdminResponse(int status, String contentType, String body) {

    public static AdminResponse json(String body) {
        return new AdminResponse(200, "application/json", body);
    }

    public static AdminResponse text(String body) {
        return new AdminResponse(200, "text/plain; charset=utf-8", body);
    }

    public static AdminResponse error(int status, String message) {
        return new AdminResponse(status, "text/plain; charset=utf-8", message + "\n");
    }
}
