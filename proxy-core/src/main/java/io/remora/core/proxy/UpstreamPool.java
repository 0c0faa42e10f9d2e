package io.remora.core.proxy;

import io.remora.core.cluster.Cluster;
import io.remora.core.cluster.Host;
import io.remora.core.protocol.RpcCodec;
import io.netty.channel.EventLoop;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The upstream connections of one event loop: one multiplexed connection per host (and protocol). Only its loop
 * touches it, so no locking. Requests from every downstream connection on the loop share these connections.
 */
final class UpstreamPool {

    private final Map<Host, UpstreamConnection> byHost = new HashMap<>();
    /** Rare: the same host reached with a second protocol (an auto-detecting listener and a protocol-less cluster). */
    private Map<String, UpstreamConnection> other;

    UpstreamConnection connection(EventLoop loop, Cluster cluster, Host host, RpcCodec codec) {
        UpstreamConnection c = byHost.get(host);
        if (c != null && c.codec().protocol() == codec.protocol()) {
            if (c.usable()) {
                return c;
            }
            byHost.remove(host);
        } else if (c != null) {
            return otherProtocol(loop, cluster, host, codec);
        }
        c = new UpstreamConnection(this, loop, cluster, host, codec);
        byHost.put(host, c);
        c.connect();
        return c;
    }

    private UpstreamConnection otherProtocol(EventLoop loop, Cluster cluster, Host host, RpcCodec codec) {
        if (other == null) {
            other = new HashMap<>();
        }
        String key = codec.protocol().name() + "|" + host.cluster() + "|" + host.address();
        UpstreamConnection c = other.get(key);
        if (c != null && c.usable()) {
            return c;
        }
        c = new UpstreamConnection(this, loop, cluster, host, codec);
        other.put(key, c);
        c.connect();
        return c;
    }

    /** Called by a connection that closed or started draining, so new requests get a fresh one. */
    void remove(UpstreamConnection c) {
        if (byHost.get(c.host()) == c) {
            byHost.remove(c.host());
        }
        if (other != null) {
            other.values().remove(c);
        }
    }

    List<UpstreamConnection> all() {
        List<UpstreamConnection> l = new ArrayList<>(byHost.values());
        if (other != null) {
            l.addAll(other.values());
        }
        return l;
    }
}
