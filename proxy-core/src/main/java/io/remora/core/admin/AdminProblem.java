package io.remora.core.admin;

/**
 * Thrown by a handler for a request it cannot answer: the admin server replies with {@link #status()} and the message
 * (no stack trace). {@link IllegalArgumentException} stays the shorthand for 400.
 */
public final class AdminProblem extends RuntimeException {

    private final int status;

    public AdminProblem(int status, String message) {
        super(message, null, false, false);
        this.status = status;
    }

    public int status() {
        return status;
    }
}
