package io.remora.core.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.util.concurrent.ScheduledFuture;
import io.remora.core.chain.FilterChains;
import io.remora.core.chain.FirstBytes;
import io.remora.core.config.ListenerSpec;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * First handler of a listener with filter chains or {@code use_original_dst}; runs once per connection, then
 * replaces itself with what serves the connection. Like Envoy's listener filters: the original destination comes from
 * the socket ({@code original_dst}: with TPROXY the accepted socket's local address is it), and a
 * {@code use_original_dst} listener hands the connection to the listener of that address. When a chain of the
 * listener that gets it matches on SNI, TLS or ALPN / HTTP, the first bytes are looked at without consuming them and
 * without terminating TLS ({@code tls_inspector}, {@code http_inspector}); a caller that sends nothing (a
 * server-first protocol) is matched as plaintext without ALPN after the inspect timeout. The bytes read so far go to
 * the chosen chain's first handler (TLS or the protocol).
 */
final class ChainSelector extends ByteToMessageDecoder {

    static final String NAME = "chain-select";
    private static final Logger log = LoggerFactory.getLogger(ChainSelector.class);

    private final ListenerSlot accepting;
    private final ListenerManager manager;
    private ListenerSlot target;
    private FilterChains chains;
    private InetSocketAddress destination;
    private boolean decided;
    private ScheduledFuture<?> timer;

    ChainSelector(ListenerSlot accepting, ListenerManager manager) {
        this.accepting = accepting;
        this.manager = manager;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) throws Exception {
        super.handlerAdded(ctx);
        if (ctx.channel().isActive()) {
            begin(ctx); // adopted on upgrade: already connected
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        ctx.fireChannelActive();
        begin(ctx);
    }

    private void begin(ChannelHandlerContext ctx) {
        if (target != null) {
            return;
        }
        destination = OriginalDestination.of(ctx.channel());
        ListenerSlot t = accepting.spec().useOriginalDst() ? manager.handoffTarget(destination, accepting) : null;
        target = t == null ? accepting : t;
        ListenerSpec spec = target.spec();
        chains = spec.chains();
        if (chains == null) {
            install(ctx, target, spec);
            return;
        }
        if (!chains.needsInspection()) {
            select(ctx, null);
            return;
        }
        accepting.connections().add(ctx.channel()); // drain sees it while it is inspected
        timer = ctx.executor().schedule(() -> {
            if (!decided && !ctx.isRemoved()) {
                select(ctx, null);
            }
        }, chains.inspectTimeoutMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (decided || chains == null) {
            return; // bytes wait in the cumulation until the chain is installed
        }
        FirstBytes.Result r = FirstBytes.inspect(in);
        if (r == null) {
            return;
        }
        select(ctx, r);
    }

    private void select(ChannelHandlerContext ctx, FirstBytes.Result r) {
        decided = true;
        if (timer != null) {
            timer.cancel(false);
        }
        if (target != accepting) {
            accepting.connections().remove(ctx.channel());
        }
        FilterChains.Chain c = chains.select(destination, r == null ? null : r.serverName(),
                r == null ? null : r.transport(), r == null ? List.of() : r.alpn());
        if (c == null) {
            target.metrics().noFilterChainMatch();
            log.debug("listener {}: no filter chain matches a connection from {} to {} ({}); closing", target.name(),
                    ctx.channel().remoteAddress(), destination, r);
            ctx.close();
            return;
        }
        ListenerSlot chainSlot = target.chain(c);
        install(ctx, chainSlot, chainSlot.spec());
    }

    private void install(ChannelHandlerContext ctx, ListenerSlot slot, ListenerSpec spec) {
        decided = true;
        manager.installServing(ctx.pipeline(), slot, spec);
        if (!ctx.isRemoved()) {
            ctx.pipeline().remove(this); // hands the bytes read so far to the next handler
        }
    }

    @Override
    protected void handlerRemoved0(ChannelHandlerContext ctx) {
        if (timer != null) {
            timer.cancel(false);
        }
    }
}
