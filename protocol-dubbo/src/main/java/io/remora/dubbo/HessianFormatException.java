package io.remora.dubbo;

/**
 * A Hessian2 body the skipper cannot walk. Checked on purpose: every caller must decide what a bad body means (the
 * frame itself stays valid, its length comes from the 16-byte header). No stack trace: it is an expected outcome.
 */
final class HessianFormatException extends Exception {

    private static final long serialVersionUID = 1L;

    HessianFormatException(String message) {
        super(message, null, false, false);
    }
}
