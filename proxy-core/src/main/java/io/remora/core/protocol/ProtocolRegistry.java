package io.remora.core.protocol;

import io.netty.buffer.ByteBuf;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.ServiceLoader;

/** All protocols found on the class path. Immutable after construction. */
public final class ProtocolRegistry {

    private final Map<String, Protocol> byName;

    public ProtocolRegistry(Iterable<Protocol> protocols) {
        Map<String, Protocol> m = new LinkedHashMap<>();
        for (Protocol p : protocols) {
            Protocol previous = m.putIfAbsent(p.name(), p);
            if (previous != null) {
                throw new IllegalStateException("two protocol plugins named '" + p.name() + "': "
                        + previous.getClass().getName() + " and " + p.getClass().getName());
            }
        }
        this.byName = Collections.unmodifiableMap(m);
    }

    public static ProtocolRegistry load() {
        return new ProtocolRegistry(ServiceLoader.load(Protocol.class));
    }

    /** The protocol named {@code name}, or null. */
    public Protocol get(String name) {
        return byName.get(name);
    }

    public Collection<Protocol> all() {
        return byName.values();
    }

    public java.util.Set<String> names() {
        return byName.keySet();
    }

    /**
     * Asks each protocol in turn. Returns the matching protocol, null if none can match, or
     * {@link #NEED_MORE} if at least one protocol needs more bytes to decide.
     */
    public Protocol detect(ByteBuf firstBytes, Collection<Protocol> candidates) {
        boolean needMore = false;
        for (Protocol p : candidates) {
            Detection d = p.detect(firstBytes);
            if (d == Detection.MATCH) {
                return p;
            }
            if (d == Detection.NEED_MORE_DATA) {
                needMore = true;
            }
        }
        return needMore ? NEED_MORE : null;
    }

    /** Marker returned by {@link #detect} when more bytes are needed. */
    public static final Protocol NEED_MORE = new Protocol() {
        @Override public String name() { return "<need-more>"; }
        @Override public Detection detect(ByteBuf firstBytes) { return Detection.NEED_MORE_DATA; }
        @Override public RpcCodec codec(ProtocolOptions options) { throw new UnsupportedOperationException(); }
    };
}
