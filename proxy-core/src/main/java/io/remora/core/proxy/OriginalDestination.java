package io.remora.core.proxy;

import io.netty.channel.Channel;
import io.remora.core.cluster.Cluster;
import io.remora.core.cluster.Host;
import java.net.InetSocketAddress;

/**
 * The original destination of a downstream connection. With TPROXY the accepted socket's local address IS the
 * address the client connected to; on an ordinary listener it is the listener's own address.
 */
public final class OriginalDestination {

    private OriginalDestination() {
    }

    /** The local address of downstream channel {@code ch} (an HTTP/2 stream answers its connection's), or null. */
    public static InetSocketAddress of(Channel ch) {
        return ch.localAddress() instanceof InetSocketAddress a ? a : null;
    }

    /**
     * The host of {@code original_dst} cluster {@code c} for a connection to {@code destination} on {@code slot}, or
     * null when there is none: no destination, or the connection was made to the listener itself (not redirected),
     * where forwarding to the "original destination" would connect the sidecar to itself forever.
     */
    public static Host host(Cluster c, ListenerSlot slot, InetSocketAddress destination) {
        if (destination == null) {
            return null;
        }
        Channel server = slot.serverChannel();
        if (server != null && server.localAddress() instanceof InetSocketAddress l && l.getPort() == destination.getPort()
                && (l.getAddress().isAnyLocalAddress() || l.getAddress().equals(destination.getAddress()))) {
            return null;
        }
        return c.originalDstHost(destination);
    }
}
