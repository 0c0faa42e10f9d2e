package io.remora.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.remora.testing.TestSidecar;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The frame-level HTTP/2 path with real Netty and grpc-java peers on both sides. */
class Http2FrameProxyTest {

    static H2TestPeers.Server upstream;
    static H2TestPeers.Server limited;
    static Server grpcServer;
    static TestSidecar sidecar;

    @BeforeAll
    static void start() throws Exception {
        upstream = new H2TestPeers.Server(1000);
        limited = new H2TestPeers.Server(2);
        ServerServiceDefinition echo = ServerServiceDefinition.builder("test.Echo")
                .addMethod(GrpcProxyTest.UNARY, ServerCalls.asyncUnaryCall((req, obs) -> {
                    obs.onNext(req);
                    obs.onCompleted();
                })).build();
        grpcServer = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(echo).build()
                .start();
        sidecar = TestSidecar.start("""
                {"admin":{"port":0},
                 "listeners":[
                   {"name":"h2","address":"127.0.0.1:0","protocol":"http2",
                    "routes":[{"match":{"prefix":"/test.Echo/"},"cluster":"grpc"},
                              {"match":{"prefix":"/"},"cluster":"up","timeout_ms":60000}]},
                   {"name":"web","address":"127.0.0.1:0","protocol":"http",
                    "routes":[{"match":{"prefix":"/"},"cluster":"up","timeout_ms":60000}]},
                   {"name":"limited","address":"127.0.0.1:0","protocol":"http2",
                    "routes":[{"match":{"prefix":"/"},"cluster":"limited"}]}],
                 "clusters":[{"name":"up","protocol":"http2","hosts":[{"address":"127.0.0.1:%d"}]},
                             {"name":"limited","protocol":"http2","hosts":[{"address":"127.0.0.1:%d"}]},
                             {"name":"grpc","hosts":[{"address":"127.0.0.1:%d"}]}]}
                """.formatted(upstream.port(), limited.port(), grpcServer.getPort()));
    }

    @AfterAll
    static void stop() throws Exception {
        sidecar.close();
        upstream.close();
        limited.close();
        grpcServer.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    @Test
    void manyConcurrentGrpcCallsShareOneConnection() throws Exception {
        ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", sidecar.port("h2")).usePlaintext().build();
        try {
            List<com.google.common.util.concurrent.ListenableFuture<byte[]>> calls = new ArrayList<>();
            for (int i = 0; i < 500; i++) {
                calls.add(ClientCalls.futureUnaryCall(ch.newCall(GrpcProxyTest.UNARY,
                        CallOptions.DEFAULT.withDeadlineAfter(20, TimeUnit.SECONDS)), GrpcProxyTest.utf8("call-" + i)));
            }
            for (int i = 0; i < calls.size(); i++) {
                assertEquals("call-" + i, new String(calls.get(i).get(20, TimeUnit.SECONDS), StandardCharsets.UTF_8));
            }
        } finally {
            ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void hundredStreamBurstOnOneDownstreamConnection() throws Exception {
        try (H2TestPeers.Client c = new H2TestPeers.Client(sidecar.port("h2"))) {
            List<H2TestPeers.Result> rs = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                rs.add(c.get("/hello"));
            }
            for (H2TestPeers.Result r : rs) {
                r.done.get(20, TimeUnit.SECONDS);
                assertEquals("200", r.head.status().toString());
                assertEquals("hello", r.bodyText());
            }
        }
    }

    @Test
    void respectsUpstreamMaxConcurrentStreams() throws Exception {
        try (H2TestPeers.Client c = new H2TestPeers.Client(sidecar.port("limited"))) {
            List<H2TestPeers.Result> rs = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                rs.add(c.get("/hello"));
            }
            for (H2TestPeers.Result r : rs) {
                r.done.get(20, TimeUnit.SECONDS);
                assertEquals("200", r.head.status().toString(), "reset " + r.resetCode);
                assertEquals("hello", r.bodyText());
            }
        }
        assertTrue(limited.maxActive.get() <= 2 * limited.connections.get(), "max " + limited.maxActive
                + " streams at once on " + limited.connections + " connections");
    }

    @Test
    void passesTrailersThrough() throws Exception {
        try (H2TestPeers.Client c = new H2TestPeers.Client(sidecar.port("h2"))) {
            H2TestPeers.Result r = c.get("/trailers").done.get(10, TimeUnit.SECONDS);
            assertEquals("200", r.head.status().toString());
            assertEquals("body", r.bodyText());
            assertEquals("yes", r.trailers.get("x-trailer").toString());
            assertEquals("0", r.trailers.get("grpc-status").toString());
        }
    }

    @Test
    void upstreamResetBeforeResponseIsBadGateway() throws Exception {
        try (H2TestPeers.Client c = new H2TestPeers.Client(sidecar.port("h2"))) {
            H2TestPeers.Result r = c.get("/rst-before").done.get(10, TimeUnit.SECONDS);
            assertEquals("502", r.head.status().toString());
            assertEquals("upstream_reset", r.head.get(HttpErrors.ERROR_HEADER).toString());
        }
    }

    @Test
    void upstreamResetMidResponseResetsCallerWithSameCode() throws Exception {
        try (H2TestPeers.Client c = new H2TestPeers.Client(sidecar.port("h2"))) {
            H2TestPeers.Result r = c.get("/rst-mid").done.get(10, TimeUnit.SECONDS);
            assertEquals("200", r.head.status().toString());
            assertEquals(Http2Error.INTERNAL_ERROR.code(), r.resetCode);
        }
    }

    @Test
    void callerResetMidRequestReachesUpstream() throws Exception {
        try (H2TestPeers.Client c = new H2TestPeers.Client(sidecar.port("h2"))) {
            H2TestPeers.Result r = new H2TestPeers.Result();
            Http2StreamChannel s = c.open("POST", "/hold", false, r, true);
            s.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(new byte[1000]), false)).sync();
            assertTrue(upstream.holdStarted.await(10, TimeUnit.SECONDS));
            s.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.CANCEL)).sync();
            assertEquals(Http2Error.CANCEL.code(), upstream.holdReset.get(10, TimeUnit.SECONDS));
        }
    }

    /** 32 MB down (read slowly) and 32 MB up through h2 on both sides: flow control, not buffering, holds them. */
    @Test
    void streamsLargeBodiesBothWaysWithFlatMemory() throws Exception {
        long size = H2TestPeers.Server.SOURCE_BYTES;
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build();
        String base = "http://127.0.0.1:" + sidecar.port("web");
        client.send(HttpRequest.newBuilder(URI.create(base + "/hello")).build(),
                HttpResponse.BodyHandlers.discarding()); // h2c upgrade; the next requests are plain HTTP/2
        long growth = HttpStreamingTest.peakGrowth(() -> {
            HttpResponse<InputStream> down = client.send(HttpRequest.newBuilder(URI.create(base + "/source"))
                    .timeout(Duration.ofMinutes(2)).build(), HttpResponse.BodyHandlers.ofInputStream());
            assertEquals(HttpClient.Version.HTTP_2, down.version());
            assertEquals(200, down.statusCode());
            try (InputStream in = down.body()) {
                assertEquals(size, HttpStreamingTest.drainSlowly(in));
            }
            HttpResponse<String> up = client.send(HttpRequest.newBuilder(URI.create(base + "/sink"))
                            .timeout(Duration.ofMinutes(2)).POST(HttpRequest.BodyPublishers.ofInputStream(
                                    () -> new HttpStreamingTest.ZeroStream(size))).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(HttpClient.Version.HTTP_2, up.version());
            assertEquals("received=" + size, up.body());
        });
        System.out.println("h2 transfers of " + size + " bytes each way: peak buffer growth " + growth + " bytes");
        assertTrue(growth < 16L << 20, "buffer memory grew by " + growth);
    }

    @Test
    void grpcThroughFrameLevelPathKeepsPayloadIntact() throws Exception {
        ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", sidecar.port("h2")).usePlaintext()
                .maxInboundMessageSize(16 << 20).build();
        try {
            byte[] big = new byte[2 << 20];
            for (int i = 0; i < big.length; i++) {
                big[i] = (byte) (i * 7);
            }
            assertArrayEquals(big, ClientCalls.blockingUnaryCall(ch, GrpcProxyTest.UNARY,
                    CallOptions.DEFAULT.withDeadlineAfter(20, TimeUnit.SECONDS), big));
        } finally {
            ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }
}
