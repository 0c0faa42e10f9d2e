package io.remora.injector.inject;

/** A pod (or an injection config) the injector cannot handle; the message says which field and why. */
public final class InjectionException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public InjectionException(String message) {
        super(message);
    }

    public InjectionException(String message, Throwable cause) {
        super(message, cause);
    }
}
