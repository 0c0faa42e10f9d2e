package io.remora.xds;

import com.google.protobuf.InvalidProtocolBufferException;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.core.v3.TransportSocket;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsCertificate;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import io.remora.core.config.ConfigException;
import io.remora.core.config.SidecarConfig;
import io.remora.core.tls.SecretStore;
import io.remora.xds.XdsResources.XSecret;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Envoy's TLS transport sockets to the core's {@code tls}: certificates and trusted CAs by SDS secret name (ADS or
 * istio-agent's {@code sds-grpc}: either way a name the SDS stream delivers) or by file; inline material in a
 * listener or cluster is refused (it would land in the config and its dumps; deliver it over SDS). And SDS
 * {@code Secret}s to the material the {@link SecretStore} holds.
 */
final class TlsTranslator {

    static final String TLS = "envoy.transport_sockets.tls";
    static final String UPSTREAM = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext";
    static final String DOWNSTREAM = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3"
            + ".DownstreamTlsContext";
    static final String RAW_BUFFER = "type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer";

    private final Consumer<String> warn;

    TlsTranslator(Consumer<String> warn) {
        this.warn = warn;
    }

    /** A filter chain's transport socket: null for plaintext. */
    SidecarConfig.Tls downstream(TransportSocket ts, String p) throws ConfigException {
        if (isPlain(ts)) {
            return null;
        }
        DownstreamTlsContext d = unpack(ts, DownstreamTlsContext.class, DOWNSTREAM, p);
        Common c = common(d.getCommonTlsContext(), p + ".common_tls_context", false);
        boolean require = d.hasRequireClientCertificate() && d.getRequireClientCertificate().getValue();
        if (c.certFile == null && c.certSecret == null) {
            throw new ConfigException(p + ".common_tls_context", "a downstream TLS context needs a certificate "
                    + "(tls_certificate_sds_secret_configs or tls_certificates with filenames)");
        }
        return new SidecarConfig.Tls(c.certFile, c.keyFile, c.caFile, c.certSecret, c.caSecret, null,
                c.alpn.isEmpty() ? null : c.alpn, require ? true : null, null, null);
    }

    /**
     * A cluster's TLS: its {@code transport_socket}, or from {@code transport_socket_matches} the first TLS match,
     * whose {@code match} labels become {@code host_labels} (Istio's {@code tlsMode: istio}: mTLS to sidecar-injected
     * endpoints, plaintext to the others). Null for plaintext.
     */
    SidecarConfig.Tls upstream(Cluster cl, String p) throws ConfigException {
        TransportSocket ts = null;
        Map<String, String> labels = null;
        if (cl.getTransportSocketMatchesCount() > 0) {
            for (int i = 0; i < cl.getTransportSocketMatchesCount(); i++) {
                Cluster.TransportSocketMatch m = cl.getTransportSocketMatches(i);
                if (!isPlain(m.getTransportSocket())) {
                    ts = m.getTransportSocket();
                    labels = XdsTranslator.strings(m.getMatch());
                    p = p + ".transport_socket_matches[" + m.getName() + "]";
                    break;
                }
            }
            if (ts != null && labels.isEmpty() && cl.getTransportSocketMatchesCount() > 1) {
                warn.accept(p + ": a TLS match without labels before other matches; TLS to every host");
            }
        } else if (cl.hasTransportSocket()) {
            ts = cl.getTransportSocket();
            p = p + ".transport_socket";
        }
        if (ts == null || isPlain(ts)) {
            return null;
        }
        UpstreamTlsContext u = unpack(ts, UpstreamTlsContext.class, UPSTREAM, p);
        Common c = common(u.getCommonTlsContext(), p + ".common_tls_context", true);
        return new SidecarConfig.Tls(c.certFile, c.keyFile, c.caFile, c.certSecret, c.caSecret,
                u.getSni().isEmpty() ? null : u.getSni(), c.alpn.isEmpty() ? null : c.alpn, null,
                c.sans.isEmpty() ? null : c.sans, labels == null || labels.isEmpty() ? null : labels);
    }

    private static boolean isPlain(TransportSocket ts) {
        if (ts == null || ts.getName().isEmpty() && !ts.hasTypedConfig()) {
            return true;
        }
        String type = ts.hasTypedConfig() ? ts.getTypedConfig().getTypeUrl() : "";
        return type.equals(RAW_BUFFER) || (type.isEmpty() && ts.getName().equals("envoy.transport_sockets.raw_buffer"));
    }

    private static final class Common {
        String certFile;
        String keyFile;
        String certSecret;
        String caFile;
        String caSecret;
        List<String> alpn = new ArrayList<>();
        List<String> sans = new ArrayList<>();
    }

    private Common common(CommonTlsContext c, String p, boolean client) throws ConfigException {
        Common out = new Common();
        out.alpn.addAll(c.getAlpnProtocolsList());
        if (c.getTlsCertificateSdsSecretConfigsCount() > 0) {
            out.certSecret = c.getTlsCertificateSdsSecretConfigs(0).getName();
            if (c.getTlsCertificateSdsSecretConfigsCount() > 1) {
                warn.accept(p + ": several tls_certificate_sds_secret_configs; the first is used");
            }
        } else if (c.getTlsCertificatesCount() > 0) {
            TlsCertificate t = c.getTlsCertificates(0);
            out.certFile = file(t.getCertificateChain(), p + ".tls_certificates[0].certificate_chain");
            out.keyFile = file(t.getPrivateKey(), p + ".tls_certificates[0].private_key");
        }
        CertificateValidationContext v = null;
        switch (c.getValidationContextTypeCase()) {
            case VALIDATION_CONTEXT -> v = c.getValidationContext();
            case VALIDATION_CONTEXT_SDS_SECRET_CONFIG -> out.caSecret = c.getValidationContextSdsSecretConfig()
                    .getName();
            case COMBINED_VALIDATION_CONTEXT -> {
                v = c.getCombinedValidationContext().getDefaultValidationContext();
                out.caSecret = c.getCombinedValidationContext().getValidationContextSdsSecretConfig().getName();
                if (out.caSecret.isEmpty()) {
                    out.caSecret = null;
                }
            }
            case VALIDATIONCONTEXTTYPE_NOT_SET -> {
            }
            default -> throw new ConfigException(p, "validation context " + c.getValidationContextTypeCase()
                    + " is not supported");
        }
        if (v != null) {
            if (v.hasTrustedCa() && out.caSecret == null) {
                out.caFile = file(v.getTrustedCa(), p + ".validation_context.trusted_ca");
            }
            for (var m : v.getMatchSubjectAltNamesList()) {
                if (m.getMatchPatternCase() == StringMatcher.MatchPatternCase.EXACT && client) {
                    out.sans.add(m.getExact());
                } else {
                    warn.accept(p + ": match_subject_alt_names other than exact (on a cluster) are not supported; "
                            + "ignored");
                }
            }
        }
        return out;
    }

    private static String file(DataSource d, String p) throws ConfigException {
        if (d.getSpecifierCase() == DataSource.SpecifierCase.FILENAME) {
            return d.getFilename();
        }
        throw new ConfigException(p, "inline TLS material (" + d.getSpecifierCase() + ") is not supported here; "
                + "use a filename or deliver it over SDS");
    }

    private static <T extends com.google.protobuf.Message> T unpack(TransportSocket ts, Class<T> type, String url,
                                                                  String p) throws ConfigException {
        if (!ts.hasTypedConfig() || !ts.getTypedConfig().getTypeUrl().equals(url)) {
            throw new ConfigException(p, "transport socket \"" + ts.getName() + "\" ("
                    + (ts.hasTypedConfig() ? ts.getTypedConfig().getTypeUrl() : "no typed_config")
                    + ") is not supported (raw_buffer, or tls with " + type.getSimpleName() + ")");
        }
        try {
            return ts.getTypedConfig().unpack(type);
        } catch (InvalidProtocolBufferException e) {
            throw new ConfigException(p, "bad " + type.getSimpleName() + ": " + e.getMessage());
        }
    }

    /** An SDS Secret: a certificate + key and/or a validation context's trusted CA. */
    static XSecret secret(Secret s) throws ConfigException {
        String p = "secret \"" + s.getName() + "\"";
        if (s.getName().isEmpty()) {
            throw new ConfigException("secret", "has no name");
        }
        String cert = null;
        String key = null;
        String ca = null;
        switch (s.getTypeCase()) {
            case TLS_CERTIFICATE -> {
                cert = data(s.getTlsCertificate().getCertificateChain(), p + ".tls_certificate.certificate_chain");
                key = data(s.getTlsCertificate().getPrivateKey(), p + ".tls_certificate.private_key");
                if (cert == null || key == null) {
                    throw new ConfigException(p + ".tls_certificate", "needs certificate_chain and private_key");
                }
            }
            case VALIDATION_CONTEXT -> {
                ca = data(s.getValidationContext().getTrustedCa(), p + ".validation_context.trusted_ca");
                if (ca == null) {
                    throw new ConfigException(p + ".validation_context", "needs trusted_ca");
                }
            }
            default -> throw new ConfigException(p, "secret type " + s.getTypeCase() + " is not supported "
                    + "(tls_certificate, validation_context)");
        }
        return new XSecret(s.getName(), new SecretStore.Secret(cert, key, ca));
    }

    private static String data(DataSource d, String p) throws ConfigException {
        return switch (d.getSpecifierCase()) {
            case INLINE_BYTES -> d.getInlineBytes().toString(StandardCharsets.UTF_8);
            case INLINE_STRING -> d.getInlineString();
            case FILENAME -> {
                try {
                    yield Files.readString(Path.of(d.getFilename()));
                } catch (IOException e) {
                    throw new ConfigException(p, "cannot read \"" + d.getFilename() + "\": " + e.getMessage());
                }
            }
            case SPECIFIER_NOT_SET -> null;
            default -> throw new ConfigException(p, d.getSpecifierCase() + " is not supported");
        };
    }

    /** Names of the secrets a TLS config asks SDS for. */
    static List<String> secretNames(SidecarConfig.Tls t) {
        List<String> out = new ArrayList<>(2);
        if (t != null && t.certSecret() != null) {
            out.add(t.certSecret());
        }
        if (t != null && t.caSecret() != null) {
            out.add(t.caSecret());
        }
        return out;
    }

    static Map<String, String> copy(Map<String, String> m) {
        return m == null ? null : new LinkedHashMap<>(m);
    }
}
