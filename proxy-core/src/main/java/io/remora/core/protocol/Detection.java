package io.remora.core.protocol;

/** The answer of {@link Protocol#detect}. */
public enum Detection {
    /** The bytes are this protocol's. */
    MATCH,
    /** The bytes can never be this protocol. */
    NO_MATCH,
    /** Too few bytes to tell yet. */
    NEED_MORE_DATA
}
