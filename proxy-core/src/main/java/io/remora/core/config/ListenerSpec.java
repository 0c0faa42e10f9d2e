package io.remora.core.config;

import io.remora.core.filter.Direction;
import io.remora.core.filter.StreamFilter;
import io.remora.core.protocol.RpcCodec;
import io.remora.core.router.RouteTable;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * A compiled listener: everything a request on it needs, bound to the snapshot it was compiled in.
 *
 * @param codecs one codec per protocol the listener accepts (one, or every registered protocol for {@code auto})
 */
public record ListenerSpec(
        String name,
        InetSocketAddress address,
        String protocol,
        List<RpcCodec> codecs,
        Direction direction,
        StreamFilter[] filters,
        RouteTable routes,
        int maxFrameBytes,
        long idleTimeoutMillis,
        ConfigSnapshot snapshot,
        /** Interception mode: {@code IP_TRANSPARENT} listening socket (epoll only). */
        boolean transparent) {

    /** A non-transparent listener (kept for code that builds specs positionally). */
    public ListenerSpec(String name, InetSocketAddress address, String protocol, List<RpcCodec> codecs,
                        Direction direction, StreamFilter[] filters, RouteTable routes, int maxFrameBytes,
                        long idleTimeoutMillis, ConfigSnapshot snapshot) {
        this(name, address, protocol, codecs, direction, filters, routes, maxFrameBytes, idleTimeoutMillis, snapshot,
                false);
    }

    public boolean autoDetect() {
        return "auto".equals(protocol);
    }

    /** The codec for {@code protocolName} among this listener's, or null. */
    public RpcCodec codec(String protocolName) {
        for (RpcCodec c : codecs) {
            if (c.protocol().name().equals(protocolName)) {
                return c;
            }
        }
        return null;
    }
}
