package io.remora.injector.webhook;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.List;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The webhook's serving certificate, re-read from its PEM files when they change (cert-manager or the cert script
 * rotates the Secret; kubelet updates the mounted files), without a restart. Each load gets a new alias, and the
 * previous one stays resolvable, so a handshake that picked an alias just before a swap still finds its key.
 */
final class ReloadingKeyManager extends X509ExtendedKeyManager {

    private static final Logger log = LoggerFactory.getLogger(ReloadingKeyManager.class);

    private record Identity(String alias, X509Certificate[] chain, PrivateKey key, byte[] certBytes, byte[] keyBytes) {}

    private final Path certFile;
    private final Path keyFile;
    private volatile Identity current;
    private volatile Identity previous;
    private int generation;

    /** Loads now; an unreadable or mismatched pair fails the start. */
    ReloadingKeyManager(Path certFile, Path keyFile) throws IOException, GeneralSecurityException {
        this.certFile = certFile;
        this.keyFile = keyFile;
        this.current = load(Files.readAllBytes(certFile), Files.readAllBytes(keyFile));
    }

    /** Re-reads the files; true when a new certificate was swapped in. A bad pair is logged and the old one kept. */
    synchronized boolean reload() {
        try {
            byte[] cert = Files.readAllBytes(certFile);
            byte[] key = Files.readAllBytes(keyFile);
            Identity cur = current;
            if (Arrays.equals(cert, cur.certBytes) && Arrays.equals(key, cur.keyBytes)) return false;
            Identity next = load(cert, key);
            previous = cur;
            current = next;
            log.info("serving certificate reloaded: {} (expires {})", next.chain[0].getSubjectX500Principal(),
                    next.chain[0].getNotAfter());
            return true;
        } catch (IOException | GeneralSecurityException e) {
            // Kubelet writes cert and key in one atomic swap, but a half-rotated pair (mismatch) can be seen
            // by a manual copy: keep serving the old one and try again at the next poll.
            log.warn("serving certificate not reloaded, keeping the current one: {}", e.getMessage());
            return false;
        }
    }

    X509Certificate leaf() {
        return current.chain[0];
    }

    private Identity load(byte[] cert, byte[] key) throws GeneralSecurityException {
        List<X509Certificate> chain = PemFiles.certificates(cert, certFile.toString());
        PrivateKey pk = PemFiles.privateKey(key, keyFile.toString());
        PemFiles.checkPair(pk, chain.get(0), certFile + " / " + keyFile);
        return new Identity("remora-injector-" + (++generation), chain.toArray(X509Certificate[]::new), pk, cert, key);
    }

    private Identity byAlias(String alias) {
        Identity c = current;
        if (c.alias.equals(alias)) return c;
        Identity p = previous;
        return p != null && p.alias.equals(alias) ? p : null;
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
        return chooseServerAlias(keyType, issuers, null);
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
        Identity c = current;
        String alg = c.key.getAlgorithm();
        // keyType is "RSA", "RSASSA-PSS", "EC", "EdDSA", or "EC_EC"-style for TLS 1.2 suites; ours only when it fits
        // exactly (an rsaEncryption key is not a RSASSA-PSS key).
        if (keyType == null || keyType.equals(alg) || keyType.startsWith(alg + "_")
                || alg.equals("Ed25519") && keyType.equals("EdDSA")) {
            return c.alias;
        }
        return null;
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
        String a = chooseServerAlias(keyType, issuers, null);
        return a == null ? null : new String[] {a};
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
        Identity id = byAlias(alias);
        return id == null ? null : id.chain.clone();
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
        Identity id = byAlias(alias);
        return id == null ? null : id.key;
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
        return null;
    }

    @Override
    public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
        return null;
    }

    @Override
    public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
        return null;
    }
}
