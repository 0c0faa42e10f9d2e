package io.remora.bolt.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/** The golden Bolt frames of protocols.md §1.10 (copied into test resources under {@code vectors/}). */
public final class Vectors {

    private Vectors() {
    }

    public static byte[] load(String name) {
        try (InputStream in = Vectors.class.getResourceAsStream("/vectors/" + name)) {
            if (in == null) {
                throw new IllegalArgumentException("no vector " + name);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
