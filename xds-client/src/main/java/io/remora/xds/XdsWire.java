package io.remora.xds;

import io.grpc.stub.StreamObserver;
import java.util.Set;
import java.util.function.Function;

/**
 * One ADS stream in one wire dialect (state of the world or delta). The client's state machine and resource store
 * are shared; a wire only turns "subscribe / ACK / NACK" into its dialect's requests and its responses into
 * {@link XdsUpdate}s. Called on the client thread only; its callbacks arrive on gRPC threads.
 */
interface XdsWire {

    /** Where a stream's responses and its end go (on a gRPC thread). */
    interface Sink {
        void onUpdate(XdsUpdate update);

        void onEnd(Throwable error);

        /** A gRPC response observer feeding this sink, each response turned into an update by {@code convert}. */
        default <R> StreamObserver<R> observer(Function<R, XdsUpdate> convert) {
            Sink sink = this;
            return new StreamObserver<>() {
                @Override
                public void onNext(R r) {
                    sink.onUpdate(convert.apply(r));
                }

                @Override
                public void onError(Throwable t) {
                    sink.onEnd(t);
                }

                @Override
                public void onCompleted() {
                    sink.onEnd(null);
                }
            };
        }
    }

    /** "sotw" or "delta", for logs and the admin API. */
    String dialect();

    /** The first request for a type on this stream: its subscription and what the client already holds. */
    void open(TypeState ts);

    /** The subscription of {@code ts} changed to {@code ts.names} (after {@code added}/{@code removed}). */
    void resubscribe(TypeState ts, Set<String> added, Set<String> removed);

    void ack(TypeState ts);

    void nack(TypeState ts, String error);

    void close();
}
