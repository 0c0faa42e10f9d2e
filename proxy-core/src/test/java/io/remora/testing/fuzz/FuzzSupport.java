package io.remora.testing.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.TooLongFrameException;
import io.remora.testing.LeakDetectionExtension;
import java.util.List;

/** What the fuzz targets share (docs/fuzzing.md). */
public final class FuzzSupport {

    private FuzzSupport() {
    }

    /**
     * Cut points for {@code length} bytes: up to {@code maxPieces - 1} positions in (0, length), ascending, chosen by
     * the fuzzer (so a run explores every split of a stream across reads). Always ends with {@code length}.
     */
    public static int[] cuts(FuzzedDataProvider data, int length, int maxPieces) {
        int pieces = length == 0 ? 1 : data.consumeInt(1, Math.max(1, Math.min(maxPieces, length)));
        int[] cuts = new int[pieces];
        for (int i = 0; i < pieces - 1; i++) {
            cuts[i] = data.consumeInt(1, Math.max(1, length - 1));
        }
        cuts[pieces - 1] = length;
        java.util.Arrays.sort(cuts);
        return cuts;
    }

    /**
     * True for the decode failures the decoders document: a {@link CorruptedFrameException} or
     * {@link TooLongFrameException} raised by the decoder itself. Anything else, including a {@link DecoderException}
     * that {@code ByteToMessageDecoder} wrapped around an unexpected exception (it wraps every non-decoder exception),
     * is a finding.
     */
    public static boolean isDocumentedDecodeFailure(Throwable t) {
        return (t instanceof CorruptedFrameException || t instanceof TooLongFrameException) && t.getCause() == null;
    }

    /** Rethrows {@code t} as a finding unless it is a documented decode failure. */
    public static void requireDocumentedDecodeFailure(Throwable t) {
        if (!isDocumentedDecodeFailure(t)) {
            throw new AssertionError("undocumented decode failure: " + t, t);
        }
    }

    /** Fails if Netty's leak detector (PARANOID in tests) has reported a leak so far in this JVM. */
    public static void requireNoLeakReport() {
        List<String> leaks = LeakDetectionExtension.leaks();
        if (!leaks.isEmpty()) {
            throw new AssertionError("Netty reported " + leaks.size() + " leak(s):\n" + leaks.get(0));
        }
    }
}
