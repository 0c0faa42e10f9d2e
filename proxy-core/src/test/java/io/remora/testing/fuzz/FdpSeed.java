package io.remora.testing.fuzz;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Builds a seed file for a target that reads a {@code FuzzedDataProvider}: the provider takes integers from the end of
 * the input and byte arrays from the front (libFuzzer's FuzzedDataProvider, which Jazzer's follows), so a seed is
 * {@code front bytes ++ the integers, last consumed first}. Values are appended in the order the target consumes them.
 */
public final class FdpSeed {

    private final ByteArrayOutputStream front = new ByteArrayOutputStream();
    /** Integer bytes in consumption order (the first one is the last byte of the file). */
    private final ByteArrayOutputStream back = new ByteArrayOutputStream();

    public FdpSeed bool(boolean b) {
        back.write(b ? 1 : 0);
        return this;
    }

    /** {@code consumeInt(min, max)} returning {@code value}. */
    public FdpSeed intInRange(int value, int min, int max) {
        if (value < min || value > max) {
            throw new IllegalArgumentException(value + " not in [" + min + ", " + max + "]");
        }
        long range = (long) max - min;
        long v = (long) value - min;
        int n = 0;
        while (n < 4 && (range >>> (8 * n)) > 0) {
            n++;
        }
        // the provider reads the most significant byte first, from the end backwards
        for (int i = n - 1; i >= 0; i--) {
            back.write((int) (v >>> (8 * i)) & 0xff);
        }
        return this;
    }

    /** {@code consumeInt()} returning {@code value}. */
    public FdpSeed anInt(int value) {
        return intInRange(value, Integer.MIN_VALUE, Integer.MAX_VALUE);
    }

    /** Bytes the target takes from the front ({@code consumeBytes}, {@code consumeRemainingAsBytes}). */
    public FdpSeed bytes(byte[] b) {
        front.writeBytes(b);
        return this;
    }

    public byte[] build() {
        byte[] f = front.toByteArray();
        byte[] b = back.toByteArray();
        byte[] out = new byte[f.length + b.length];
        System.arraycopy(f, 0, out, 0, f.length);
        for (int i = 0; i < b.length; i++) {
            out[out.length - 1 - i] = b[i];
        }
        return out;
    }

    /** Writes the seed as {@code dir/name} (used by the targets' seed writers, see docs/fuzzing.md). */
    public void write(Path dir, String name) {
        try {
            Files.createDirectories(dir);
            Files.write(dir.resolve(name), build());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
