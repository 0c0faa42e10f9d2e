package io.remora.core.tls;

import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * TLS material delivered at run time (SDS), by secret name; one per sidecar process. Kept out of the config snapshot
 * so it never reaches config_dump, logs or the digest: the config names a secret, this store holds it. Every change
 * bumps {@link #version()}, which the TLS contexts of clusters and listeners check (one volatile read) before they
 * hand out an {@code SslContext}: a rotated certificate is used by the next connection, existing ones keep theirs.
 */
public final class SecretStore {

    /**
     * One secret: a certificate chain and its private key (PEM), and/or trusted CA certificates (PEM). Its
     * {@code toString} names what it holds, never the material.
     */
    public record Secret(String certificateChainPem, String privateKeyPem, String trustedCaPem) {
        @Override
        public String toString() {
            return "Secret[" + (certificateChainPem != null ? "certificate" : "")
                    + (trustedCaPem != null ? (certificateChainPem != null ? "+" : "") + "trusted_ca" : "") + "]";
        }
    }

    private final Map<String, Secret> secrets = new ConcurrentHashMap<>();
    private final AtomicLong version = new AtomicLong();

    /** Adds or replaces secret {@code name}. */
    public void put(String name, Secret secret) {
        Secret old = secrets.put(name, secret);
        if (!secret.equals(old)) {
            version.incrementAndGet();
        }
    }

    public void remove(String name) {
        if (secrets.remove(name) != null) {
            version.incrementAndGet();
        }
    }

    /** The secret named {@code name}, or null (not delivered yet). */
    public Secret get(String name) {
        return secrets.get(name);
    }

    /** Names held (for admin output: names only). */
    public Set<String> names() {
        return new TreeSet<>(secrets.keySet());
    }

    /** Increases with every change. */
    public long version() {
        return version.get();
    }
}
