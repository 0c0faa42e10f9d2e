package io.remora.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.remora.testing.TestSidecar;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Istio's labels for HTTP and gRPC, from real clients through the sidecar: {@code request_protocol} is {@code http} or
 * {@code grpc}, {@code response_code} is the status the caller got (the origin's or the sidecar's own), and
 * {@code grpc_response_status} the gRPC status of the answer, as Envoy reports them.
 */
class HttpIstioMetricsTest {

    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @Test
    void httpAndGrpcRequestsCarryTheStatusesTheCallerSaw() throws Exception {
        ServerServiceDefinition echo = ServerServiceDefinition.builder("test.Echo")
                .addMethod(GrpcProxyTest.UNARY, ServerCalls.asyncUnaryCall((req, obs) -> {
                    if (req.length == 0) {
                        obs.onError(Status.NOT_FOUND.withDescription("no such thing").asRuntimeException());
                        return;
                    }
                    obs.onNext(req);
                    obs.onCompleted();
                }))
                .build();
        Server grpcServer = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(echo)
                .build().start();
        ManagedChannel channel = null;
        try (HttpUpstreamServer web = new HttpUpstreamServer("web");
             TestSidecar sidecar = TestSidecar.start("""
                     {"admin":{"port":0},
                      "listeners":[
                        {"name":"web","address":"127.0.0.1:0","protocol":"http1",
                         "routes":[{"match":{"prefix":"/"},"cluster":"web"}]},
                        {"name":"grpc","address":"127.0.0.1:0","protocol":"http2",
                         "routes":[{"match":{"prefix":"/test.Echo/"},"cluster":"echo"}]}],
                      "clusters":[{"name":"web","hosts":[{"address":"127.0.0.1:%d"}]},
                                  {"name":"echo","hosts":[{"address":"127.0.0.1:%d"}]}]}
                     """.formatted(web.port(), grpcServer.getPort()))) {
            int port = sidecar.port("web");
            assertEquals(200, get(port, "/echo"));
            assertEquals(404, get(port, "/status?code=404"));
            assertEquals(503, get(port, "/status?code=503"));

            channel = NettyChannelBuilder.forAddress("127.0.0.1", sidecar.port("grpc")).usePlaintext().build();
            ClientCalls.blockingUnaryCall(channel, GrpcProxyTest.UNARY, CallOptions.DEFAULT, GrpcProxyTest.utf8("hi"));
            ManagedChannel c = channel;
            StatusRuntimeException notFound = assertThrows(StatusRuntimeException.class,
                    () -> ClientCalls.blockingUnaryCall(c, GrpcProxyTest.UNARY, CallOptions.DEFAULT, new byte[0]));
            assertEquals(Status.Code.NOT_FOUND, notFound.getStatus().getCode());
            StatusRuntimeException noRoute = assertThrows(StatusRuntimeException.class,
                    () -> ClientCalls.blockingUnaryCall(c, GrpcProxyTest.HIDDEN, CallOptions.DEFAULT, new byte[1]));
            assertEquals(Status.Code.UNIMPLEMENTED, noRoute.getStatus().getCode());

            String scrape = scrapeWhenCounted(sidecar, 6);
            assertSeries(scrape, "request_protocol=\"http\"", "response_code=\"200\"", "response_flags=\"-\"",
                    "grpc_response_status=\"\"");
            assertSeries(scrape, "request_protocol=\"http\"", "response_code=\"404\"", "response_flags=\"-\"");
            assertSeries(scrape, "request_protocol=\"http\"", "response_code=\"503\"", "response_flags=\"-\"");
            assertSeries(scrape, "request_protocol=\"grpc\"", "response_code=\"200\"", "grpc_response_status=\"0\"");
            assertSeries(scrape, "request_protocol=\"grpc\"", "response_code=\"200\"", "grpc_response_status=\"5\"");
            // no route: the sidecar's own trailers-only answer (UNIMPLEMENTED) and Envoy's NR flag
            assertSeries(scrape, "request_protocol=\"grpc\"", "grpc_response_status=\"12\"", "response_flags=\"NR\"");
        } finally {
            if (channel != null) {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
            grpcServer.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    private static int get(int port, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    /** The exposition once {@code n} requests have been counted (metrics are emitted as each request ends). */
    private static String scrapeWhenCounted(TestSidecar sidecar, int n) throws InterruptedException {
        String body = "";
        for (int i = 0; i < 100; i++) {
            body = sidecar.admin("GET", "/stats/prometheus", null).body();
            double total = body.lines().filter(l -> l.startsWith("istio_requests_total{"))
                    .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
            if (total >= n) {
                return body;
            }
            Thread.sleep(50);
        }
        return body;
    }

    private static void assertSeries(String scrape, String... labels) {
        List<String> series = scrape.lines().filter(l -> l.startsWith("istio_requests_total{")).toList();
        assertTrue(series.stream().anyMatch(l -> List.of(labels).stream().allMatch(l::contains)),
                "an istio_requests_total series with " + List.of(labels) + " in\n" + String.join("\n", series));
    }
}
