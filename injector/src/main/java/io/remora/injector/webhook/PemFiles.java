package io.remora.injector.webhook;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a PEM certificate chain and private key, as Kubernetes TLS secrets ({@code tls.crt}, {@code tls.key}) hold
 * them: keys in PKCS#8 ("PRIVATE KEY", RSA or EC, what openssl 3 and cert-manager's PKCS8 encoding write), PKCS#1
 * ("RSA PRIVATE KEY") or SEC1 ("EC PRIVATE KEY", cert-manager's default encoding). Encrypted keys are refused.
 */
final class PemFiles {

    private static final Pattern BLOCK = Pattern.compile(
            "-----BEGIN ([A-Z0-9 ]+)-----\\s*([A-Za-z0-9+/=\\s]+?)\\s*-----END \\1-----");
    private static final byte[] RSA_ALGORITHM = {0x30, 0x0d, 0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86,
            (byte) 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00};
    private static final byte[] EC_PUBLIC_KEY_OID =
            {0x06, 0x07, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x02, 0x01};

    private PemFiles() {}

    /** The chain, leaf first; at least one certificate. */
    static List<X509Certificate> certificates(byte[] pem, String where) throws GeneralSecurityException {
        List<X509Certificate> out = new ArrayList<>();
        CertificateFactory cf = CertificateFactory.getInstance("X.509");
        for (var c : cf.generateCertificates(new ByteArrayInputStream(pem))) out.add((X509Certificate) c);
        if (out.isEmpty()) throw new GeneralSecurityException(where + ": no certificate");
        return out;
    }

    static PrivateKey privateKey(byte[] pem, String where) throws GeneralSecurityException {
        Matcher m = BLOCK.matcher(new String(pem, StandardCharsets.US_ASCII));
        while (m.find()) {
            String type = m.group(1);
            byte[] der = Base64.getMimeDecoder().decode(m.group(2));
            switch (type) {
                case "PRIVATE KEY" -> {
                    return pkcs8(der, where);
                }
                case "RSA PRIVATE KEY" -> {
                    return KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(
                            sequence(concat(new byte[] {0x02, 0x01, 0x00}, RSA_ALGORITHM, tlv(0x04, der)))));
                }
                case "EC PRIVATE KEY" -> {
                    byte[] algorithm = sequence(concat(EC_PUBLIC_KEY_OID, sec1Curve(der, where)));
                    return KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(
                            sequence(concat(new byte[] {0x02, 0x01, 0x00}, algorithm, tlv(0x04, der)))));
                }
                case "ENCRYPTED PRIVATE KEY" ->
                        throw new GeneralSecurityException(where + ": encrypted keys are not supported");
                default -> { } // e.g. "EC PARAMETERS" before the key
            }
        }
        throw new GeneralSecurityException(
                where + ": no PEM private key (PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)");
    }

    /** Fails unless the key signs what the certificate's public key verifies (a key of another pair, say). */
    static void checkPair(PrivateKey key, X509Certificate cert, String where) throws GeneralSecurityException {
        String alg = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            case "Ed25519", "EdDSA" -> "Ed25519";
            default -> throw new GeneralSecurityException(where + ": unsupported key algorithm " + key.getAlgorithm());
        };
        byte[] probe = new byte[32];
        new SecureRandom().nextBytes(probe);
        Signature s = Signature.getInstance(alg);
        s.initSign(key);
        s.update(probe);
        byte[] sig = s.sign();
        Signature v = Signature.getInstance(alg);
        v.initVerify(cert.getPublicKey());
        v.update(probe);
        if (!v.verify(sig)) {
            throw new GeneralSecurityException(where + ": the private key does not match the certificate");
        }
    }

    private static PrivateKey pkcs8(byte[] der, String where) throws GeneralSecurityException {
        for (String alg : new String[] {"RSA", "EC", "Ed25519"}) {
            try {
                return KeyFactory.getInstance(alg).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (GeneralSecurityException | IllegalArgumentException e) {
                // the next algorithm
            }
        }
        throw new GeneralSecurityException(where + ": PKCS#8 key of an unsupported algorithm (RSA, EC, Ed25519)");
    }

    /** The named-curve OID (the whole TLV) in a SEC1 ECPrivateKey's [0] parameters. */
    private static byte[] sec1Curve(byte[] der, String where) throws GeneralSecurityException {
        try {
            int[] outer = header(der, 0);
            if (der[0] != 0x30) throw new GeneralSecurityException("not a sequence");
            int pos = outer[0];
            int end = outer[0] + outer[1];
            while (pos < end) {
                int tag = der[pos] & 0xff;
                int[] h = header(der, pos);
                if (tag == 0xa0) {
                    int oidStart = h[0];
                    int[] oid = header(der, oidStart);
                    return java.util.Arrays.copyOfRange(der, oidStart, oid[0] + oid[1]);
                }
                pos = h[0] + h[1];
            }
        } catch (ArrayIndexOutOfBoundsException e) {
            throw new GeneralSecurityException(where + ": truncated EC PRIVATE KEY");
        }
        throw new GeneralSecurityException(where + ": EC PRIVATE KEY without curve parameters; use PKCS#8");
    }

    /** {contentStart, contentLength} of the DER element at {@code pos}. */
    private static int[] header(byte[] der, int pos) {
        int len = der[pos + 1] & 0xff;
        int start = pos + 2;
        if (len >= 0x80) {
            int n = len & 0x7f;
            len = 0;
            for (int i = 0; i < n; i++) len = (len << 8) | (der[start + i] & 0xff);
            start += n;
        }
        return new int[] {start, len};
    }

    private static byte[] sequence(byte[] content) {
        return tlv(0x30, content);
    }

    private static byte[] tlv(int tag, byte[] content) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(content.length + 6);
        out.write(tag);
        int len = content.length;
        if (len < 0x80) {
            out.write(len);
        } else if (len < 0x100) {
            out.write(0x81);
            out.write(len);
        } else if (len < 0x10000) {
            out.write(0x82);
            out.write(len >> 8);
            out.write(len);
        } else {
            out.write(0x83);
            out.write(len >> 16);
            out.write(len >> 8);
            out.write(len);
        }
        out.writeBytes(content);
        return out.toByteArray();
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) out.writeBytes(p);
        return out.toByteArray();
    }
}
