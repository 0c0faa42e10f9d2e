package io.remora.core.protocol;

/** What a decoded frame is, as far as the engine cares. */
public enum FrameKind {
    /** A request that expects a response. */
    REQUEST,
    /** A request that never gets a response (Bolt type 0x02, Dubbo two-way bit clear). Forwarded without waiting. */
    ONEWAY,
    /** A response to a request. */
    RESPONSE,
    /** A keep-alive probe. Answered by whoever receives it; never forwarded. */
    HEARTBEAT,
    /** The answer to a keep-alive probe. Consumed by whoever sent the probe. */
    HEARTBEAT_ACK,
    /** The peer asks that no new requests be sent on this connection (e.g. Dubbo's read-only event). Never forwarded. */
    DRAIN,
    /** A protocol event the engine ignores (released and dropped). */
    OTHER_EVENT
}
