package io.remora.core.protocol;

import io.netty.buffer.ByteBuf;

/**
 * A protocol plugin, found with {@link java.util.ServiceLoader} ({@code META-INF/services/io.remora.core.protocol.Protocol}).
 * The core never names a protocol: listeners and clusters refer to it by {@link #name()}, and auto-detection asks every
 * registered protocol's {@link #detect(ByteBuf)}.
 */
public interface Protocol {

    /** The name used in config, e.g. {@code "bolt"} or {@code "dubbo"}. Lower case, stable. */
    String name();

    /**
     * Looks at the first bytes of a new connection without moving the reader index.
     * Must not throw on any input.
     */
    Detection detect(ByteBuf firstBytes);

    /** A codec for request/response multiplexed protocols, configured by the listener's or cluster's options. */
    RpcCodec codec(ProtocolOptions options);

    /**
     * Null (the default) for request/response RPC protocols, served by the core's RPC engine with {@link #codec}.
     * A protocol with its own connection handling (HTTP) returns the installer of its downstream pipeline instead.
     */
    default DownstreamInstaller downstreamInstaller() {
        return null;
    }
}
