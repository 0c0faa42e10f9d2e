package io.remora.core.chain;

import io.remora.core.config.ConfigException;
import io.remora.core.config.SidecarConfig;
import io.remora.core.router.DestinationMatcher;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * A compiled {@code filter_chain_match}: each criterion is absent (matches anything, as the least specific choice) or
 * a condition. {@link FilterChains} narrows the candidates criterion by criterion, Envoy's way.
 */
public final class ChainMatch {

    static final ChainMatch ANY = new ChainMatch(0, null, null, null, null, null, "{}");

    /** 0 = any port. */
    final int destinationPort;
    /** null = any address. */
    final DestinationMatcher[] prefixRanges;
    /** Lower-cased exact names and {@code *.suffix} wildcards (suffix kept with its dot); both null = any. */
    final Set<String> exactNames;
    final List<String> wildcardSuffixes;
    /** null = any. */
    final String transportProtocol;
    /** null = any. */
    final Set<String> applicationProtocols;
    private final String key;

    private ChainMatch(int destinationPort, DestinationMatcher[] prefixRanges, Set<String> exactNames,
                       List<String> wildcardSuffixes, String transportProtocol, Set<String> applicationProtocols,
                       String key) {
        this.destinationPort = destinationPort;
        this.prefixRanges = prefixRanges;
        this.exactNames = exactNames;
        this.wildcardSuffixes = wildcardSuffixes;
        this.transportProtocol = transportProtocol;
        this.applicationProtocols = applicationProtocols;
        this.key = key;
    }

    public static ChainMatch compile(SidecarConfig.FilterChainMatch m, String p) throws ConfigException {
        if (m == null) {
            return ANY;
        }
        int port = 0;
        if (m.destinationPort() != null) {
            port = m.destinationPort();
            if (port < 1 || port > 65535) {
                throw new ConfigException(p + ".destination_port", "must be between 1 and 65535, was " + port);
            }
        }
        DestinationMatcher[] ranges = null;
        if (m.prefixRanges() != null) {
            if (m.prefixRanges().isEmpty()) {
                throw new ConfigException(p + ".prefix_ranges", "must not be empty (leave it out to match any address)");
            }
            ranges = new DestinationMatcher[m.prefixRanges().size()];
            for (int i = 0; i < ranges.length; i++) {
                ranges[i] = DestinationMatcher.cidr(m.prefixRanges().get(i), p + ".prefix_ranges[" + i + "]");
            }
        }
        Set<String> exact = null;
        List<String> wild = null;
        if (m.serverNames() != null) {
            if (m.serverNames().isEmpty()) {
                throw new ConfigException(p + ".server_names", "must not be empty (leave it out to match any name)");
            }
            exact = new LinkedHashSet<>();
            wild = new ArrayList<>();
            for (int i = 0; i < m.serverNames().size(); i++) {
                String n = m.serverNames().get(i);
                if (n == null || n.isBlank() || n.equals("*") || (n.contains("*") && !n.startsWith("*."))
                        || n.indexOf('*', 1) > 0) {
                    throw new ConfigException(p + ".server_names[" + i + "]", "\"" + n + "\" must be a host name or "
                            + "*.suffix");
                }
                n = n.toLowerCase(Locale.ROOT);
                if (n.startsWith("*.")) {
                    wild.add(n.substring(1));
                } else {
                    exact.add(n);
                }
            }
            wild.sort((a, b) -> b.length() - a.length()); // longest suffix first: the most specific wildcard wins
        }
        String transport = m.transportProtocol();
        if (transport != null && !transport.equals("tls") && !transport.equals("raw_buffer")) {
            throw new ConfigException(p + ".transport_protocol", "must be \"tls\" or \"raw_buffer\", was \""
                    + transport + "\"");
        }
        Set<String> alpn = null;
        if (m.applicationProtocols() != null) {
            if (m.applicationProtocols().isEmpty()) {
                throw new ConfigException(p + ".application_protocols", "must not be empty (leave it out to match "
                        + "any)");
            }
            for (int i = 0; i < m.applicationProtocols().size(); i++) {
                String a = m.applicationProtocols().get(i);
                if (a == null || a.isEmpty()) {
                    throw new ConfigException(p + ".application_protocols[" + i + "]", "must not be empty");
                }
            }
            alpn = Set.copyOf(m.applicationProtocols());
        }
        String key = port + "|" + (m.prefixRanges() == null ? "" : new java.util.TreeSet<>(m.prefixRanges())) + "|"
                + (m.serverNames() == null ? "" : new java.util.TreeSet<>(m.serverNames())) + "|" + transport + "|"
                + (alpn == null ? "" : new java.util.TreeSet<>(alpn));
        return new ChainMatch(port, ranges, exact, wild, transport, alpn, key);
    }

    /** True when a chain needs the connection's first bytes (SNI, TLS or ALPN / HTTP detection) to be matched. */
    boolean needsInspection() {
        return exactNames != null || transportProtocol != null || applicationProtocols != null;
    }

    /** Two chains with the same key could never be told apart (Envoy rejects that too). */
    public String key() {
        return key;
    }
}
