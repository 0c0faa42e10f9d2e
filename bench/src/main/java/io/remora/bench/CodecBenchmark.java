package io.remora.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.remora.core.protocol.Protocol;
import io.remora.core.protocol.ProtocolOptions;
import io.remora.core.protocol.RpcCodec;
import io.remora.core.protocol.RpcFrame;
import java.io.IOException;
import java.io.InputStream;
import java.util.ServiceLoader;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The codecs' per-request work on real frames (the golden vectors): decode a request off the wire with the
 * listener's decoder, read its routing keys (Bolt: header scan; Dubbo: Hessian2 strings), and re-encode it with a new
 * id for the upstream; same for a response. Run with {@code -prof gc} for bytes allocated per operation.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class CodecBenchmark {

    @Param({"bolt", "dubbo"})
    String protocol;

    private RpcCodec codec;
    private EmbeddedChannel decoder;
    private ByteBuf request;
    private ByteBuf response;
    private long id;

    @Setup
    public void setUp() throws IOException {
        Protocol p = ServiceLoader.load(Protocol.class).stream().map(ServiceLoader.Provider::get)
                .filter(x -> x.name().equals(protocol)).findFirst().orElseThrow();
        codec = p.codec(ProtocolOptions.DEFAULTS);
        decoder = new EmbeddedChannel(codec.newDecoder());
        request = direct(vector(protocol.equals("bolt") ? "bolt_v1_request.bin" : "dubbo_request_sayHello.bin"));
        response = direct(vector(protocol.equals("bolt") ? "bolt_v1_response_ok.bin" : "dubbo_response_ok.bin"));
    }

    @TearDown
    public void tearDown() {
        request.release();
        response.release();
        decoder.finishAndReleaseAll();
    }

    static byte[] vector(String name) throws IOException {
        try (InputStream in = CodecBenchmark.class.getResourceAsStream("/vectors/" + name)) {
            return in.readAllBytes();
        }
    }

    private static ByteBuf direct(byte[] bytes) {
        ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length);
        return b.writeBytes(bytes);
    }

    private RpcFrame decode(ByteBuf wire) {
        decoder.writeInbound(wire.retainedDuplicate());
        return decoder.readInbound();
    }

    /** Decode a request and read service, method and one header: what routing needs. */
    @Benchmark
    public void decodeRequestAndRoutingKeys(Blackhole bh) {
        RpcFrame f = decode(request);
        bh.consume(f.service());
        bh.consume(f.method());
        bh.consume(f.header("zone"));
        f.release();
    }

    /** Decode a request, re-encode it for the upstream with a new id and timeout (ids patched in place). */
    @Benchmark
    public void decodeAndEncodeRequest(Blackhole bh) {
        RpcFrame f = decode(request);
        bh.consume(f.service());
        ByteBuf out = codec.encodeRequest(f, ++id & 0x7fffffff, 2000);
        bh.consume(out.readableBytes());
        out.release();
    }

    /** Decode a response, re-encode it for the downstream with the original id. */
    @Benchmark
    public void decodeAndEncodeResponse(Blackhole bh) {
        RpcFrame f = decode(response);
        ByteBuf out = codec.encodeResponse(f, ++id & 0x7fffffff);
        bh.consume(out.readableBytes());
        out.release();
    }
}
