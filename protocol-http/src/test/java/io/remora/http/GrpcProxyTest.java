package io.remora.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import io.remora.testing.TestSidecar;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A real grpc-java client and server (no codegen: byte[] marshaller) through the sidecar over h2c. */
class GrpcProxyTest {

    static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };

    static MethodDescriptor<byte[], byte[]> method(String name, MethodDescriptor.MethodType type) {
        return MethodDescriptor.<byte[], byte[]>newBuilder().setType(type)
                .setFullMethodName(MethodDescriptor.generateFullMethodName("test.Echo", name))
                .setRequestMarshaller(BYTES).setResponseMarshaller(BYTES).build();
    }

    static final MethodDescriptor<byte[], byte[]> UNARY = method("Unary", MethodDescriptor.MethodType.UNARY);
    static final MethodDescriptor<byte[], byte[]> SLOW = method("Slow", MethodDescriptor.MethodType.UNARY);
    static final MethodDescriptor<byte[], byte[]> SERVER_STREAM =
            method("ServerStream", MethodDescriptor.MethodType.SERVER_STREAMING);
    static final MethodDescriptor<byte[], byte[]> BIDI = method("Bidi", MethodDescriptor.MethodType.BIDI_STREAMING);
    static final MethodDescriptor<byte[], byte[]> HIDDEN = MethodDescriptor.<byte[], byte[]>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY).setFullMethodName("test.Hidden/Call")
            .setRequestMarshaller(BYTES).setResponseMarshaller(BYTES).build();

    static Server server;
    static TestSidecar sidecar;
    static ManagedChannel channel;

    @BeforeAll
    static void start() throws Exception {
        ServerServiceDefinition echo = ServerServiceDefinition.builder("test.Echo")
                .addMethod(UNARY, ServerCalls.asyncUnaryCall((req, obs) -> {
                    obs.onNext(req);
                    obs.onCompleted();
                }))
                .addMethod(SLOW, ServerCalls.asyncUnaryCall((req, obs) -> {
                    try {
                        Thread.sleep(2000);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    obs.onNext(req);
                    obs.onCompleted();
                }))
                .addMethod(SERVER_STREAM, ServerCalls.asyncServerStreamingCall((req, obs) -> {
                    int n = Integer.parseInt(new String(req, StandardCharsets.UTF_8));
                    for (int i = 0; i < n; i++) {
                        obs.onNext(("item-" + i).getBytes(StandardCharsets.UTF_8));
                    }
                    obs.onCompleted();
                }))
                .addMethod(BIDI, ServerCalls.asyncBidiStreamingCall(obs -> new StreamObserver<byte[]>() {
                    @Override
                    public void onNext(byte[] value) {
                        obs.onNext(("echo:" + new String(value, StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8));
                    }

                    @Override
                    public void onError(Throwable t) {
                    }

                    @Override
                    public void onCompleted() {
                        obs.onCompleted();
                    }
                }))
                .build();
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(echo)
                .maxInboundMessageSize(32 << 20).build().start();
        sidecar = TestSidecar.start("""
                {"admin":{"port":0},
                 "listeners":[{"name":"grpc","address":"127.0.0.1:0","protocol":"http2",
                   "routes":[
                     {"match":{"prefix":"/test.Echo/"},"cluster":"echo"},
                     {"match":{"prefix":"/test.Down/"},"cluster":"down"}]}],
                 "clusters":[{"name":"echo","hosts":[{"address":"127.0.0.1:%d"}]},
                             {"name":"down","hosts":[]}]}
                """.formatted(server.getPort()));
        channel = NettyChannelBuilder.forAddress("127.0.0.1", sidecar.port("grpc")).usePlaintext()
                .maxInboundMessageSize(32 << 20).build();
    }

    @AfterAll
    static void stop() throws Exception {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        sidecar.close();
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void proxiesUnaryCalls() {
        for (int i = 0; i < 20; i++) {
            byte[] r = ClientCalls.blockingUnaryCall(channel, UNARY, CallOptions.DEFAULT.withDeadlineAfter(5,
                    TimeUnit.SECONDS), utf8("hi-" + i));
            assertEquals("hi-" + i, new String(r, StandardCharsets.UTF_8));
        }
    }

    @Test
    void proxiesLargeMessages() {
        byte[] big = new byte[8 << 20];
        for (int i = 0; i < big.length; i++) {
            big[i] = (byte) (i * 31);
        }
        byte[] r = ClientCalls.blockingUnaryCall(channel, UNARY, CallOptions.DEFAULT.withDeadlineAfter(20,
                TimeUnit.SECONDS), big);
        assertArrayEquals(big, r);
    }

    @Test
    void proxiesServerStreaming() {
        Iterator<byte[]> it = ClientCalls.blockingServerStreamingCall(channel, SERVER_STREAM,
                CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), utf8("500"));
        int n = 0;
        while (it.hasNext()) {
            assertEquals("item-" + n, new String(it.next(), StandardCharsets.UTF_8));
            n++;
        }
        assertEquals(500, n);
    }

    @Test
    void proxiesBidiStreaming() throws Exception {
        List<String> got = new ArrayList<>();
        CountDownLatch done = new CountDownLatch(1);
        Throwable[] error = new Throwable[1];
        StreamObserver<byte[]> requests = io.grpc.stub.ClientCalls.asyncBidiStreamingCall(
                channel.newCall(BIDI, CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS)),
                new StreamObserver<>() {
                    @Override
                    public void onNext(byte[] value) {
                        synchronized (got) {
                            got.add(new String(value, StandardCharsets.UTF_8));
                        }
                    }

                    @Override
                    public void onError(Throwable t) {
                        error[0] = t;
                        done.countDown();
                    }

                    @Override
                    public void onCompleted() {
                        done.countDown();
                    }
                });
        for (int i = 0; i < 100; i++) {
            requests.onNext(utf8("m" + i));
        }
        requests.onCompleted();
        assertTrue(done.await(10, TimeUnit.SECONDS));
        assertEquals(null, error[0]);
        assertEquals(100, got.size());
        assertEquals("echo:m99", got.get(99));
    }

    @Test
    void deadlineExceededWhenUpstreamIsSlow() {
        long t0 = System.nanoTime();
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> ClientCalls.blockingUnaryCall(
                channel, SLOW, CallOptions.DEFAULT.withDeadlineAfter(300, TimeUnit.MILLISECONDS), utf8("x")));
        assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getStatus().getCode());
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertTrue(ms < 1800, "took " + ms);
    }

    @Test
    void sidecarDeadlineFromGrpcTimeoutAnswersDeadlineExceededTrailersOnly() throws Exception {
        // raw h2c through curl would hide trailers; the grpc client reports the sidecar's own status and message
        try (TestSidecar s = TestSidecar.start("""
                {"admin":{"port":0},
                 "listeners":[{"name":"g","address":"127.0.0.1:0","protocol":"http2",
                   "routes":[{"match":{"prefix":"/"},"cluster":"echo","timeout_ms":200}]}],
                 "clusters":[{"name":"echo","hosts":[{"address":"127.0.0.1:%d"}]}]}
                """.formatted(server.getPort()))) {
            ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", s.port("g")).usePlaintext().build();
            try {
                StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                        () -> ClientCalls.blockingUnaryCall(ch, SLOW, CallOptions.DEFAULT, utf8("x")));
                assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getStatus().getCode());
                assertTrue(e.getStatus().getDescription().contains("remora: timeout"), e.getStatus().toString());
            } finally {
                ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void governanceRejectionsAreGrpcStatuses() {
        StatusRuntimeException noRoute = assertThrows(StatusRuntimeException.class,
                () -> ClientCalls.blockingUnaryCall(channel, HIDDEN, CallOptions.DEFAULT, utf8("x")));
        assertEquals(Status.Code.UNIMPLEMENTED, noRoute.getStatus().getCode());
        assertTrue(noRoute.getStatus().getDescription().startsWith("remora: no_route"), noRoute.getStatus().toString());
        MethodDescriptor<byte[], byte[]> down = MethodDescriptor.<byte[], byte[]>newBuilder()
                .setType(MethodDescriptor.MethodType.UNARY).setFullMethodName("test.Down/Call")
                .setRequestMarshaller(BYTES).setResponseMarshaller(BYTES).build();
        StatusRuntimeException unavailable = assertThrows(StatusRuntimeException.class,
                () -> ClientCalls.blockingUnaryCall(channel, down, CallOptions.DEFAULT, utf8("x")));
        assertEquals(Status.Code.UNAVAILABLE, unavailable.getStatus().getCode());
    }
}
