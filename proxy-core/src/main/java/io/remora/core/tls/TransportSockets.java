package io.remora.core.tls;

import io.netty.channel.Channel;
import io.netty.handler.ssl.SslHandler;
import io.remora.core.cluster.Cluster;
import io.remora.core.cluster.Host;

/**
 * The one TLS hook of every upstream connection (the RPC pool, both HTTP pools, the TCP proxy) and of accepted
 * connections: installs the {@link SslHandler} first in the pipeline when the cluster (or listener / filter chain)
 * has TLS, once per connection.
 */
public final class TransportSockets {

    public static final String HANDLER = "tls";

    private TransportSockets() {
    }

    /**
     * Call from the upstream channel's initializer. Plaintext when {@code cluster} has no TLS or its
     * {@code host_labels} exclude {@code host}; when the TLS material is missing the channel is closed (the connect
     * then fails like a refused one).
     */
    public static void install(Channel ch, Cluster cluster, Host host) {
        TlsContext tls = cluster.tls();
        if (tls == null || !tls.appliesTo(host)) {
            return;
        }
        SslHandler h = tls.newClientHandler(ch, host);
        if (h == null) {
            ch.close();
            return;
        }
        ch.pipeline().addFirst(HANDLER, h);
    }

    /** Adds the server side TLS of {@code tls} at the end of {@code ch}'s pipeline; false (closed) when missing. */
    public static boolean installServer(Channel ch, TlsContext tls) {
        SslHandler h = tls.newServerHandler(ch);
        if (h == null) {
            ch.close();
            return false;
        }
        ch.pipeline().addLast(HANDLER, h);
        return true;
    }
}
