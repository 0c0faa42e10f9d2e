package io.remora.bolt;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Bolt header map parsing in place ({@link BoltHeaderScanner}) on a real SOFARPC request: validate the map, find a key
 * near the end (service) and one that is absent, and decode a value to a String. In the codec's package for its
 * package-private API; the bench jar is never on the sidecar's class path.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class BoltHeaderBenchmark {

    private static final byte[] SERVICE = BoltHeaderScanner.utf8("sofa_head_target_service");
    private static final byte[] ABSENT = BoltHeaderScanner.utf8("x-not-there");

    private ByteBuf frame;
    private int start;
    private int end;

    @Setup
    public void setUp() throws IOException {
        try (InputStream in = BoltHeaderBenchmark.class.getResourceAsStream("/vectors/bolt_v1_request.bin")) {
            byte[] b = in.readAllBytes();
            frame = Unpooled.directBuffer(b.length).writeBytes(b);
        }
        // Bolt v1 request: 22-byte fixed header, then class name, header map, content
        int classLen = frame.getUnsignedShort(14);
        int headerLen = frame.getUnsignedShort(16);
        start = 22 + classLen;
        end = start + headerLen;
    }

    @Benchmark
    public boolean wellFormed() {
        return BoltHeaderScanner.isWellFormed(frame, start, end);
    }

    @Benchmark
    public void findServiceAndAbsent(Blackhole bh) {
        bh.consume(BoltHeaderScanner.find(frame, start, end, SERVICE));
        bh.consume(BoltHeaderScanner.find(frame, start, end, ABSENT));
    }

    @Benchmark
    public String serviceValue() {
        return BoltHeaderScanner.value(frame, BoltHeaderScanner.find(frame, start, end, SERVICE));
    }
}
