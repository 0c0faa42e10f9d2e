package io.remora.xds;

import com.google.rpc.Code;
import com.google.rpc.Status;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.grpc.Channel;
import io.grpc.stub.StreamObserver;
import java.util.Set;
import org.slf4j.Logger;

/**
 * Incremental ADS ({@code DeltaAggregatedResources}). A type's first request on a stream subscribes (explicit
 * {@code "*"} for the wildcard types LDS/CDS, names for EDS/RDS) and lists the resources the client already holds in
 * {@code initial_resource_versions}, so a reconnect does not resend what did not change; later requests only carry
 * subscription changes, or the nonce they ACK (plus {@code error_detail} for a NACK). The node goes in the stream's
 * first request only.
 */
final class DeltaWire implements XdsWire {

    static final String WILDCARD = "*";

    private final Node node;
    private final Logger log;
    private final StreamObserver<DeltaDiscoveryRequest> requests;
    private boolean nodeSent;

    DeltaWire(Channel channel, Node node, Logger log, Sink sink) {
        this.node = node;
        this.log = log;
        this.requests = AggregatedDiscoveryServiceGrpc.newStub(channel)
                .deltaAggregatedResources(sink.<DeltaDiscoveryResponse>observer(XdsUpdate::of));
    }

    @Override
    public String dialect() {
        return "delta";
    }

    @Override
    public void open(TypeState ts) {
        DeltaDiscoveryRequest.Builder b = builder(ts);
        if (ts.wildcard()) {
            b.addResourceNamesSubscribe(WILDCARD);
        } else {
            b.addAllResourceNamesSubscribe(ts.names);
        }
        b.putAllInitialResourceVersions(ts.heldVersions());
        send(b.build());
    }

    @Override
    public void resubscribe(TypeState ts, Set<String> added, Set<String> removed) {
        send(builder(ts).addAllResourceNamesSubscribe(added).addAllResourceNamesUnsubscribe(removed).build());
    }

    @Override
    public void ack(TypeState ts) {
        send(builder(ts).setResponseNonce(ts.nonce).build());
    }

    @Override
    public void nack(TypeState ts, String error) {
        send(builder(ts).setResponseNonce(ts.nonce)
                .setErrorDetail(Status.newBuilder().setCode(Code.INVALID_ARGUMENT_VALUE).setMessage(error)).build());
    }

    @Override
    public void close() {
        try {
            requests.onCompleted();
        } catch (RuntimeException e) {
            log.debug("xds: closing the stream: {}", e.toString());
        }
    }

    private DeltaDiscoveryRequest.Builder builder(TypeState ts) {
        DeltaDiscoveryRequest.Builder b = DeltaDiscoveryRequest.newBuilder().setTypeUrl(ts.typeUrl);
        if (!nodeSent) {
            b.setNode(node);
            nodeSent = true;
        }
        return b;
    }

    private void send(DeltaDiscoveryRequest r) {
        try {
            requests.onNext(r);
        } catch (RuntimeException e) {
            log.warn("xds: send failed: {}", e.toString());
        }
    }
}
