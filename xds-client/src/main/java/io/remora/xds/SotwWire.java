package io.remora.xds;

import com.google.rpc.Code;
import com.google.rpc.Status;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Channel;
import io.grpc.stub.StreamObserver;
import java.util.Set;
import org.slf4j.Logger;

/**
 * State-of-the-world ADS ({@code StreamAggregatedResources}): every request carries the type's full subscription, the
 * last ACKed version and the nonce it answers; a NACK is the last good version plus {@code error_detail}.
 */
final class SotwWire implements XdsWire {

    private final Node node;
    private final Logger log;
    private final StreamObserver<DiscoveryRequest> requests;

    SotwWire(Channel channel, Node node, Logger log, Sink sink) {
        this(channel, node, log, sink, false);
    }

    /** {@code secretsOnly}: SDS's own service ({@code StreamSecrets}, as istio-agent serves it), not ADS. */
    SotwWire(Channel channel, Node node, Logger log, Sink sink, boolean secretsOnly) {
        this.node = node;
        this.log = log;
        this.dialect = secretsOnly ? "sds" : "sotw";
        StreamObserver<DiscoveryResponse> responses = sink.observer(XdsUpdate::of);
        this.requests = secretsOnly
                ? io.envoyproxy.envoy.service.secret.v3.SecretDiscoveryServiceGrpc.newStub(channel)
                        .streamSecrets(responses)
                : AggregatedDiscoveryServiceGrpc.newStub(channel).streamAggregatedResources(responses);
    }

    private final String dialect;

    @Override
    public String dialect() {
        return dialect;
    }

    @Override
    public void open(TypeState ts) {
        send(request(ts, null));
    }

    @Override
    public void resubscribe(TypeState ts, Set<String> added, Set<String> removed) {
        send(request(ts, null));
    }

    @Override
    public void ack(TypeState ts) {
        send(request(ts, null));
    }

    @Override
    public void nack(TypeState ts, String error) {
        send(request(ts, error));
    }

    @Override
    public void close() {
        try {
            requests.onCompleted();
        } catch (RuntimeException e) {
            log.debug("xds: closing the stream: {}", e.toString());
        }
    }

    private DiscoveryRequest request(TypeState ts, String error) {
        DiscoveryRequest.Builder b = DiscoveryRequest.newBuilder().setNode(node).setTypeUrl(ts.typeUrl)
                .setVersionInfo(ts.version).setResponseNonce(ts.nonce).addAllResourceNames(ts.names);
        if (error != null) {
            b.setErrorDetail(Status.newBuilder().setCode(Code.INVALID_ARGUMENT_VALUE).setMessage(error));
        }
        return b.build();
    }

    private void send(DiscoveryRequest r) {
        try {
            requests.onNext(r);
        } catch (RuntimeException e) {
            log.warn("xds: send failed: {}", e.toString());
        }
    }
}
