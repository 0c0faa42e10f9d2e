package io.remora.core.router;

import io.remora.core.config.ConfigException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

/**
 * A route's {@code destination} condition on the address the downstream connection was made to (the original
 * destination on a transparent listener): {@code "ip:port"}, {@code "cidr"}, {@code "cidr:port"} or {@code ":port"}.
 * IPv6 in brackets ({@code "[fd00::/8]:80"}). An IPv4 prefix never matches an IPv6 address and the other way round.
 */
public final class DestinationMatcher {

    /** Network bytes already masked; null = any address. */
    private final byte[] network;
    private final int prefixBits;
    /** 0 = any port. */
    private final int port;

    private DestinationMatcher(byte[] network, int prefixBits, int port) {
        this.network = network;
        this.prefixBits = prefixBits;
        this.port = port;
    }

    /** A filter chain's {@code prefix_ranges} entry: a CIDR (or a bare IP), no port. */
    public static DestinationMatcher cidr(String s, String p) throws ConfigException {
        if (s != null && (s.startsWith(":") || (s.startsWith("[") && s.contains("]:"))
                || (!s.contains("[") && s.indexOf(':') >= 0 && s.indexOf(':') == s.lastIndexOf(':')))) {
            throw new ConfigException(p, "\"" + s + "\" must be a CIDR without a port, e.g. 10.0.0.0/8 or [fd00::/8]");
        }
        DestinationMatcher m = parse(s != null && s.contains(":") && !s.startsWith("[") ? "[" + s + "]" : s, p);
        return m;
    }

    /** The prefix length (32 / 128 for a single address). */
    public int prefixBits() {
        return prefixBits;
    }

    public boolean matches(InetSocketAddress destination) {
        if (destination == null) {
            return false;
        }
        if (port != 0 && destination.getPort() != port) {
            return false;
        }
        if (network == null) {
            return true;
        }
        InetAddress a = destination.getAddress();
        if (a == null) {
            return false;
        }
        byte[] b = a.getAddress();
        if (b.length != network.length) {
            return false;
        }
        int full = prefixBits >>> 3;
        for (int i = 0; i < full; i++) {
            if (b[i] != network[i]) {
                return false;
            }
        }
        int rest = prefixBits & 7;
        return rest == 0 || ((b[full] ^ network[full]) & (0xff << (8 - rest)) & 0xff) == 0;
    }

    static DestinationMatcher parse(String s, String p) throws ConfigException {
        if (s == null || s.isBlank()) {
            throw new ConfigException(p, "must not be blank (\"ip:port\", \"cidr\", \"cidr:port\" or \":port\")");
        }
        String host = s;
        int port = 0;
        if (s.startsWith("[")) { // [v6 or v6/len]:port or [v6]
            int close = s.indexOf(']');
            if (close < 0) {
                throw new ConfigException(p, "\"" + s + "\" has no closing ]");
            }
            host = s.substring(1, close);
            String tail = s.substring(close + 1);
            if (!tail.isEmpty()) {
                if (!tail.startsWith(":")) {
                    throw new ConfigException(p, "\"" + s + "\": expected :port after ]");
                }
                port = parsePort(tail.substring(1), s, p);
            }
        } else {
            int colon = s.lastIndexOf(':');
            if (colon >= 0) {
                if (s.indexOf(':') != colon) {
                    throw new ConfigException(p, "\"" + s + "\": write IPv6 addresses in brackets, e.g. [::1]:80");
                }
                port = parsePort(s.substring(colon + 1), s, p);
                host = s.substring(0, colon);
            }
        }
        if (host.isEmpty()) {
            if (port == 0) {
                throw new ConfigException(p, "\"" + s + "\" names neither an address nor a port");
            }
            return new DestinationMatcher(null, 0, port);
        }
        int slash = host.indexOf('/');
        String ip = slash < 0 ? host : host.substring(0, slash);
        if (!ip.matches("[0-9.]+|[0-9a-fA-F:.]*:[0-9a-fA-F:.]*")) {
            throw new ConfigException(p, "\"" + s + "\": \"" + ip + "\" is not an IP address (no host names)");
        }
        byte[] net;
        try {
            net = InetAddress.getByName(ip).getAddress();
        } catch (UnknownHostException e) {
            throw new ConfigException(p, "\"" + s + "\": \"" + ip + "\" is not an IP address");
        }
        int bits = net.length * 8;
        if (slash >= 0) {
            try {
                bits = Integer.parseInt(host.substring(slash + 1));
            } catch (NumberFormatException e) {
                bits = -1;
            }
            if (bits < 0 || bits > net.length * 8) {
                throw new ConfigException(p, "\"" + s + "\" has a prefix length outside 0-" + net.length * 8);
            }
        }
        for (int i = 0; i < net.length; i++) { // clear host bits so matching compares whole bytes
            int keep = Math.max(0, Math.min(8, bits - i * 8));
            net[i] &= (byte) (0xff << (8 - keep));
        }
        return new DestinationMatcher(net, bits, port);
    }

    private static int parsePort(String text, String s, String p) throws ConfigException {
        int port;
        try {
            port = Integer.parseInt(text);
        } catch (NumberFormatException e) {
            port = -1;
        }
        if (port < 1 || port > 65535) {
            throw new ConfigException(p, "\"" + s + "\" has a port outside 1-65535");
        }
        return port;
    }
}
