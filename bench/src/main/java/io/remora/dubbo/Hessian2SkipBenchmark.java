package io.remora.dubbo;

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
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@link Hessian2Cursor#skipValue()} over whole Dubbo request bodies (strings, POJO/list/map arguments, attachments):
 * what the codec does to reach the attachments without deserializing. Lives in the codec's package (package-private
 * API); the bench jar is never on the sidecar's class path.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class Hessian2SkipBenchmark {

    @Param({"dubbo_request_sayHello.bin", "dubbo_request_complex.bin", "mosn_dubbo_complexData.bin"})
    String vector;

    private ByteBuf frame;

    @Setup
    public void setUp() throws IOException {
        try (InputStream in = Hessian2SkipBenchmark.class.getResourceAsStream("/vectors/" + vector)) {
            byte[] b = in.readAllBytes();
            frame = Unpooled.directBuffer(b.length).writeBytes(b);
        }
    }

    @Benchmark
    public int skipBody() throws HessianFormatException {
        Hessian2Cursor c = new Hessian2Cursor(frame, 16, frame.writerIndex());
        int values = 0;
        while (!c.atEnd()) {
            c.skipValue();
            values++;
        }
        return values;
    }
}
