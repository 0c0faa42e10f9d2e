package io.remora.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A throwaway PKI for TLS tests, made with the openssl command line (installed on the build machines): one CA and
 * leaf certificates it signs, PEM with PKCS#8 keys, in a fresh temp directory. Each leaf carries the SANs asked for
 * (e.g. {@code DNS:localhost}, {@code URI:spiffe://cluster.local/ns/default/sa/shop}).
 */
public final class TestCerts {

    private final Path dir;
    private int serial;

    private TestCerts(Path dir) {
        this.dir = dir;
    }

    /** A new CA named {@code cn}. Skips the calling test (JUnit assumption) when there is no openssl command. */
    public static TestCerts create(String cn) {
        org.junit.jupiter.api.Assumptions.assumeTrue(opensslAvailable(), "no openssl command: skipping the TLS test "
                + "(.ci/run installs it)");
        try {
            TestCerts c = new TestCerts(Files.createTempDirectory("remora-test-pki"));
            c.openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", c.file("ca.key"), "-out",
                    c.file("ca.crt"), "-days", "2", "-subj", "/CN=" + cn);
            return c;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The CA certificate (PEM file). */
    public Path ca() {
        return dir.resolve("ca.crt");
    }

    /** A leaf signed by the CA: {@code [0]} the certificate (PEM), {@code [1]} its PKCS#8 key. */
    public Path[] leaf(String name, String... sans) {
        try {
            String key = file(name + ".key");
            String csr = file(name + ".csr");
            String crt = file(name + ".crt");
            openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=" + name);
            Path ext = dir.resolve(name + ".ext");
            Files.writeString(ext, sans.length == 0 ? "basicConstraints=CA:FALSE\n"
                    : "basicConstraints=CA:FALSE\nsubjectAltName=" + String.join(",", sans) + "\n");
            openssl("x509", "-req", "-in", csr, "-CA", file("ca.crt"), "-CAkey", file("ca.key"), "-set_serial",
                    Integer.toString(++serial + 1000), "-out", crt, "-days", "2", "-extfile", ext.toString());
            return new Path[] {Path.of(crt), Path.of(key)};
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static boolean opensslAvailable() {
        try {
            Process p = new ProcessBuilder("openssl", "version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private String file(String name) {
        return dir.resolve(name).toString();
    }

    private void openssl(String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add("openssl");
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try {
            String out = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IOException("openssl failed: " + cmd + ": " + out);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }
}
