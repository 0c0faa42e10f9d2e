package io.remora.core.chain;

import io.remora.core.config.ListenerSpec;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * A listener's filter chains, compiled: picks the chain of a new connection once, from its original destination and,
 * when some chain asks for them, what its first bytes say (SNI, TLS or not, ALPN / HTTP). Like Envoy, candidates are
 * narrowed criterion by criterion in a fixed order (destination port, destination IP, server name, transport
 * protocol, application protocol); at each step the most specific matching chains stay, chains that leave the
 * criterion out are the fallback, and there is no backtracking: when nothing is left, the default chain (if any)
 * serves the connection.
 */
public final class FilterChains {

    /** One chain: its name, its match, and everything its connections need (a spec like a single-chain listener's). */
    public record Chain(String name, ChainMatch match, ListenerSpec spec) {
    }

    private final List<Chain> chains;
    private final Chain fallback;
    private final boolean needsInspection;
    private final long inspectTimeoutMillis;

    public FilterChains(List<Chain> chains, Chain fallback, long inspectTimeoutMillis) {
        this.chains = List.copyOf(chains);
        this.fallback = fallback;
        this.inspectTimeoutMillis = inspectTimeoutMillis;
        boolean inspect = false;
        for (Chain c : chains) {
            inspect |= c.match().needsInspection();
        }
        this.needsInspection = inspect;
    }

    public List<Chain> chains() {
        return chains;
    }

    /** The default chain, or null. */
    public Chain fallback() {
        return fallback;
    }

    /** The chain or default chain named {@code name}, or null. */
    public Chain named(String name) {
        for (Chain c : chains) {
            if (c.name().equals(name)) {
                return c;
            }
        }
        return fallback != null && fallback.name().equals(name) ? fallback : null;
    }

    /** True when the first bytes must be looked at before a chain can be picked. */
    public boolean needsInspection() {
        return needsInspection;
    }

    public long inspectTimeoutMillis() {
        return inspectTimeoutMillis;
    }

    /**
     * The chain for a connection to {@code destination}; {@code serverName} (TLS SNI, lower case), {@code transport}
     * ({@code tls} / {@code raw_buffer}) and {@code alpn} come from inspection (null / empty when not inspected).
     * Null when no chain matches and there is no default chain. Once per connection.
     */
    public Chain select(InetSocketAddress destination, String serverName, String transport, List<String> alpn) {
        List<Chain> c = chains;
        int port = destination == null ? -1 : destination.getPort();
        c = narrow(c, x -> x.match().destinationPort == port, x -> x.match().destinationPort == 0);
        c = byAddress(c, destination);
        c = byServerName(c, serverName);
        String t = transport == null ? "raw_buffer" : transport;
        c = narrow(c, x -> t.equals(x.match().transportProtocol), x -> x.match().transportProtocol == null);
        c = narrow(c, x -> x.match().applicationProtocols != null && alpn != null
                && alpn.stream().anyMatch(x.match().applicationProtocols::contains),
                x -> x.match().applicationProtocols == null);
        return c.isEmpty() ? fallback : c.get(0);
    }

    private static List<Chain> narrow(List<Chain> in, Predicate<Chain> specific, Predicate<Chain> unset) {
        List<Chain> out = new ArrayList<>(in.size());
        for (Chain x : in) {
            if (specific.test(x)) {
                out.add(x);
            }
        }
        if (!out.isEmpty()) {
            return out;
        }
        for (Chain x : in) {
            if (unset.test(x)) {
                out.add(x);
            }
        }
        return out;
    }

    /** The chains whose longest matching prefix is the longest; chains without prefix_ranges if none matches. */
    private static List<Chain> byAddress(List<Chain> in, InetSocketAddress destination) {
        int best = -1;
        List<Chain> out = new ArrayList<>(in.size());
        for (Chain x : in) {
            if (x.match().prefixRanges == null || destination == null) {
                continue;
            }
            int longest = -1;
            for (var r : x.match().prefixRanges) {
                if (r.matches(new InetSocketAddress(destination.getAddress(), destination.getPort()))) {
                    longest = Math.max(longest, r.prefixBits());
                }
            }
            if (longest > best) {
                best = longest;
                out.clear();
            }
            if (longest >= 0 && longest == best) {
                out.add(x);
            }
        }
        if (!out.isEmpty()) {
            return out;
        }
        for (Chain x : in) {
            if (x.match().prefixRanges == null) {
                out.add(x);
            }
        }
        return out;
    }

    /** Exact name first, then the longest matching {@code *.suffix}, then chains without server_names. */
    private static List<Chain> byServerName(List<Chain> in, String sni) {
        List<Chain> out = new ArrayList<>(in.size());
        if (sni != null) {
            for (Chain x : in) {
                if (x.match().exactNames != null && x.match().exactNames.contains(sni)) {
                    out.add(x);
                }
            }
            if (!out.isEmpty()) {
                return out;
            }
            int best = 0;
            for (Chain x : in) {
                if (x.match().wildcardSuffixes == null) {
                    continue;
                }
                for (String suffix : x.match().wildcardSuffixes) {
                    if (sni.endsWith(suffix) && sni.length() > suffix.length() && suffix.length() >= best) {
                        if (suffix.length() > best) {
                            best = suffix.length();
                            out.clear();
                        }
                        out.add(x);
                        break;
                    }
                }
            }
            if (!out.isEmpty()) {
                return out;
            }
        }
        for (Chain x : in) {
            if (x.match().exactNames == null) {
                out.add(x);
            }
        }
        return out;
    }
}
