package io.remora.core.tls;

import io.netty.channel.Channel;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.remora.core.cluster.Host;
import io.remora.core.config.ConfigException;
import io.remora.core.config.SidecarConfig;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The compiled TLS of one cluster (client side) or listener / filter chain (server side): where its certificate and
 * trusted CAs come from (PEM files, read and checked when the config is compiled, or SDS secrets looked up in the
 * {@link SecretStore} when a connection needs them), and the handshake settings. The {@code SslContext} is built
 * once per secret version: a rotation is picked up by the next connection, established ones are untouched. Building
 * one is CPU work only (no I/O), so it may happen on an event loop, once per rotation.
 */
public final class TlsContext {

    private static final Logger log = LoggerFactory.getLogger("io.remora.tls");

    private final boolean server;
    private final String certPem;
    private final String keyPem;
    private final String caPem;
    private final String certSecret;
    private final String caSecret;
    private final String sni;
    private final List<String> alpn;
    private final boolean requireClientCertificate;
    private final Set<String> subjectAltNames;
    private final Map<String, String> hostLabels;
    private final SecretStore store;
    private volatile Built built;

    private record Built(long version, SslContext context, String missing) {
    }

    private TlsContext(boolean server, String certPem, String keyPem, String caPem, String certSecret,
                       String caSecret, String sni, List<String> alpn, boolean requireClientCertificate,
                       Set<String> subjectAltNames, Map<String, String> hostLabels, SecretStore store) {
        this.server = server;
        this.certPem = certPem;
        this.keyPem = keyPem;
        this.caPem = caPem;
        this.certSecret = certSecret;
        this.caSecret = caSecret;
        this.sni = sni;
        this.alpn = alpn;
        this.requireClientCertificate = requireClientCertificate;
        this.subjectAltNames = subjectAltNames;
        this.hostLabels = hostLabels;
        this.store = store;
    }

    /**
     * Compiles {@code t} (null: no TLS). {@code server}: a listener's (terminates TLS, needs a certificate);
     * otherwise a cluster's. Files are read and the context built now, so a bad file fails the config with its field.
     */
    public static TlsContext compile(SidecarConfig.Tls t, String p, boolean server, SecretStore store)
            throws ConfigException {
        if (t == null) {
            return null;
        }
        if ((t.certFile() == null) != (t.keyFile() == null)) {
            throw new ConfigException(p + (t.certFile() == null ? ".cert_file" : ".key_file"),
                    "cert_file and key_file go together");
        }
        if (t.certFile() != null && t.certSecret() != null) {
            throw new ConfigException(p + ".cert_secret", "give either cert_file/key_file or cert_secret");
        }
        if (t.caFile() != null && t.caSecret() != null) {
            throw new ConfigException(p + ".ca_secret", "give either ca_file or ca_secret");
        }
        boolean hasCert = t.certFile() != null || t.certSecret() != null;
        boolean hasCa = t.caFile() != null || t.caSecret() != null;
        boolean requireClient = Boolean.TRUE.equals(t.requireClientCertificate());
        if (server) {
            if (!hasCert) {
                throw new ConfigException(p, "a listener's tls needs its certificate: cert_file + key_file, or "
                        + "cert_secret");
            }
            if (requireClient && !hasCa) {
                throw new ConfigException(p + ".require_client_certificate", "needs ca_file or ca_secret to verify "
                        + "client certificates");
            }
            for (String f : new String[] {"sni", "subject_alt_names", "host_labels"}) {
                if ((f.equals("sni") && t.sni() != null) || (f.equals("subject_alt_names") && t.subjectAltNames()
                        != null) || (f.equals("host_labels") && t.hostLabels() != null)) {
                    throw new ConfigException(p + "." + f, "is a cluster (client side) setting");
                }
            }
        } else if (t.requireClientCertificate() != null) {
            throw new ConfigException(p + ".require_client_certificate", "is a listener (server side) setting");
        }
        if (t.alpn() != null) {
            for (int i = 0; i < t.alpn().size(); i++) {
                String a = t.alpn().get(i);
                if (a == null || a.isEmpty() || a.length() > 255) {
                    throw new ConfigException(p + ".alpn[" + i + "]", "must be 1-255 characters");
                }
            }
        }
        String cert = read(t.certFile(), p + ".cert_file");
        String key = read(t.keyFile(), p + ".key_file");
        String ca = read(t.caFile(), p + ".ca_file");
        TlsContext c = new TlsContext(server, cert, key, ca, t.certSecret(), t.caSecret(), t.sni(),
                t.alpn() == null ? List.of() : List.copyOf(t.alpn()), requireClient,
                t.subjectAltNames() == null ? Set.of() : Set.copyOf(t.subjectAltNames()),
                t.hostLabels() == null ? Map.of() : Map.copyOf(t.hostLabels()), store);
        if (t.certSecret() == null && t.caSecret() == null) {
            try {
                c.built = new Built(-1, c.build(cert, key, ca), null); // files only: checked now, never rebuilt
            } catch (GeneralSecurityException | SSLException | RuntimeException e) {
                throw new ConfigException(p + (t.certFile() != null ? ".cert_file" : ".ca_file"), "unusable TLS "
                        + "material: " + e.getMessage());
            }
        }
        return c;
    }

    private static String read(String file, String p) throws ConfigException {
        if (file == null) {
            return null;
        }
        try {
            return Files.readString(Path.of(file));
        } catch (IOException | RuntimeException e) {
            throw new ConfigException(p, "cannot read \"" + file + "\": " + e.getMessage());
        }
    }

    /** True when this cluster's TLS is used for {@code host} (its labels include every {@code host_labels} pair). */
    public boolean appliesTo(Host host) {
        if (hostLabels.isEmpty()) {
            return true;
        }
        Map<String, String> labels = host.labels();
        for (Map.Entry<String, String> e : hostLabels.entrySet()) {
            if (!e.getValue().equals(labels.get(e.getKey()))) {
                return false;
            }
        }
        return true;
    }

    public boolean isServer() {
        return server;
    }

    /** The SslContext for a new connection, or null when an SDS secret it needs has not arrived (see {@link #missing}). */
    public SslContext context() {
        Built b = built;
        if (b != null && (b.version() < 0 || b.version() == store.version())) {
            return b.context();
        }
        return rebuild().context();
    }

    /** What is missing when {@link #context()} is null. */
    public String missing() {
        Built b = built;
        return b == null ? "not built" : b.missing();
    }

    private synchronized Built rebuild() {
        long v = store.version();
        Built b = built;
        if (b != null && b.version() == v) {
            return b;
        }
        String cert = certPem;
        String key = keyPem;
        String ca = caPem;
        String missing = null;
        if (certSecret != null) {
            SecretStore.Secret s = store.get(certSecret);
            if (s == null || s.certificateChainPem() == null || s.privateKeyPem() == null) {
                missing = "secret \"" + certSecret + "\" (certificate) not delivered";
            } else {
                cert = s.certificateChainPem();
                key = s.privateKeyPem();
            }
        }
        if (caSecret != null) {
            SecretStore.Secret s = store.get(caSecret);
            if (s == null || s.trustedCaPem() == null) {
                missing = "secret \"" + caSecret + "\" (trusted CA) not delivered";
            } else {
                ca = s.trustedCaPem();
            }
        }
        SslContext ctx = null;
        if (missing == null) {
            try {
                ctx = build(cert, key, ca);
            } catch (GeneralSecurityException | SSLException | RuntimeException e) {
                missing = "unusable TLS material in " + (certSecret != null ? "\"" + certSecret + "\"" : "")
                        + (caSecret != null ? " \"" + caSecret + "\"" : "") + ": " + e.getMessage();
                log.warn("tls: {}", missing);
            }
        }
        b = new Built(v, ctx, missing);
        built = b;
        return b;
    }

    private SslContext build(String cert, String key, String ca) throws GeneralSecurityException, SSLException {
        SslContextBuilder b;
        if (server) {
            PrivateKey k = Pem.privateKey(key);
            b = SslContextBuilder.forServer(k, Pem.certificates(cert));
            if (ca != null) {
                b.trustManager(Pem.certificates(ca));
                b.clientAuth(requireClientCertificate ? ClientAuth.REQUIRE : ClientAuth.OPTIONAL);
            }
        } else {
            b = SslContextBuilder.forClient();
            if (cert != null) {
                b.keyManager(Pem.privateKey(key), Pem.certificates(cert));
            }
            if (!subjectAltNames.isEmpty()) {
                // checked inside the handshake: a request queued on the connection is never sent to a wrong peer
                b.trustManager(new SanCheckingTrustManager(ca == null ? null : Pem.certificates(ca), subjectAltNames));
            } else if (ca != null) {
                b.trustManager(Pem.certificates(ca));
            }
        }
        b.sslProvider(SslProvider.JDK);
        if (!alpn.isEmpty()) {
            b.applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                    ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                    ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, alpn));
        }
        return b.build();
    }

    /**
     * A client-side handler for a connection to {@code host}, or null after closing {@code ch} when the material is
     * missing. SNI is {@code sni} when set; subject alt names are checked in the handshake.
     */
    public SslHandler newClientHandler(Channel ch, Host host) {
        SslContext ctx = context();
        if (ctx == null) {
            log.warn("tls: no TLS context for upstream {}: {}", host, missing());
            return null;
        }
        InetSocketAddress a = host.socketAddress();
        SslHandler h = sni != null ? ctx.newHandler(ch.alloc(), sni, a.getPort())
                : ctx.newHandler(ch.alloc(), a.getHostString(), a.getPort());
        return h;
    }

    /** A server-side handler for an accepted connection, or null when the material is missing. */
    public SslHandler newServerHandler(Channel ch) {
        SslContext ctx = context();
        if (ctx == null) {
            log.warn("tls: cannot terminate TLS for {}: {}", ch.remoteAddress(), missing());
            return null;
        }
        return ctx.newHandler(ch.alloc());
    }

    /** Names, never material (config dumps and logs). */
    @Override
    public String toString() {
        return "tls(" + (server ? "server" : "client") + (certSecret != null ? ", cert_secret=" + certSecret : "")
                + (caSecret != null ? ", ca_secret=" + caSecret : "") + ")";
    }
}
