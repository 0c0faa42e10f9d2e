package io.remora.injector.template;

/** A template that does not compile or render; the message names the place, e.g. {@code initContainers[1].args[3]}. */
public final class TemplateException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public TemplateException(String message) {
        super(message);
    }
}
