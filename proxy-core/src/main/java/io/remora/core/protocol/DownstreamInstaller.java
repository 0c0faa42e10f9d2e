package io.remora.core.protocol;

import io.netty.channel.ChannelPipeline;
import io.remora.core.proxy.ListenerSlot;

/**
 * Installs a protocol's own handlers on a new downstream connection, for protocols that are not multiplexed RPC
 * framing (HTTP). Handlers are added at the end of {@code pipeline}; bytes already read (auto-detection) are handed
 * to the first of them.
 */
@FunctionalInterface
public interface DownstreamInstaller {

    /**
     * @param listener the listener the connection came in on (spec, metrics, digest log)
     * @param codec    this protocol's codec of the listener, built from the listener's options
     */
    void install(ChannelPipeline pipeline, ListenerSlot listener, RpcCodec codec);
}
