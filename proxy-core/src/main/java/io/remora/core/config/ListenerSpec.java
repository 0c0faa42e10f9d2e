package io.remora.core.config;

import io.remora.core.chain.FilterChains;
import io.remora.core.filter.Direction;
import io.remora.core.filter.StreamFilter;
import io.remora.core.protocol.RpcCodec;
import io.remora.core.router.RouteTable;
import io.remora.core.tls.TlsContext;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * A compiled listener: everything a request on it needs, bound to the snapshot it was compiled in. A listener with
 * filter chains has one of these per chain too ({@link #chains()}): the chain's spec carries the listener's name,
 * address and direction with the chain's protocol, routes, filters and TLS.
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
        boolean transparent,
        /** Server-side TLS terminated before the protocol, or null. */
        TlsContext tls,
        /** False: no socket; connections arrive only through a {@code use_original_dst} listener. */
        boolean bindToPort,
        /** Hand accepted connections to the listener of their original destination. */
        boolean useOriginalDst,
        /** The filter chains of a chained listener (then {@code protocol} is {@link #CHAINED}), or null. */
        FilterChains chains,
        /** The chain this spec is (null for a listener's own spec). */
        String chainName) {

    /** The {@code protocol} of a listener whose chains each have their own. */
    public static final String CHAINED = "filter_chains";

    /** A non-transparent listener (kept for code that builds specs positionally). */
    public ListenerSpec(String name, InetSocketAddress address, String protocol, List<RpcCodec> codecs,
                        Direction direction, StreamFilter[] filters, RouteTable routes, int maxFrameBytes,
                        long idleTimeoutMillis, ConfigSnapshot snapshot) {
        this(name, address, protocol, codecs, direction, filters, routes, maxFrameBytes, idleTimeoutMillis, snapshot,
                false);
    }

    /** A single-chain bound listener without TLS (kept for code that builds specs positionally). */
    public ListenerSpec(String name, InetSocketAddress address, String protocol, List<RpcCodec> codecs,
                        Direction direction, StreamFilter[] filters, RouteTable routes, int maxFrameBytes,
                        long idleTimeoutMillis, ConfigSnapshot snapshot, boolean transparent) {
        this(name, address, protocol, codecs, direction, filters, routes, maxFrameBytes, idleTimeoutMillis, snapshot,
                transparent, null, true, false, null, null);
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
