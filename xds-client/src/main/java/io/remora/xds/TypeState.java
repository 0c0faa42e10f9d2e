package io.remora.xds;

import com.google.protobuf.Message;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledFuture;

/** Per resource type: the protocol state (version, nonce, subscription) and the accepted resources. */
final class TypeState {

    record ResourceInfo(String version, Instant acceptedAt) {
    }

    final String typeUrl;
    /** The last ACKed version; sent again with a NACK. */
    String version = "";
    /** The nonce of the last response on the current stream. */
    String nonce = "";
    /** Subscribed names; empty means wildcard (LDS, CDS). */
    List<String> names = List.of();
    boolean received;
    Map<String, Message> raw = new HashMap<>();
    Map<String, Object> translated = new HashMap<>();
    Map<String, ResourceInfo> info = new HashMap<>();
    String lastNack;
    String lastNackKey;
    int nackRepeats;
    ScheduledFuture<?> delayedNack;
    long lastProcessMs = -1;
    long acks;
    long nacks;

    TypeState(String typeUrl) {
        this.typeUrl = typeUrl;
    }

    boolean wildcard() {
        return typeUrl.equals(XdsResources.LISTENER) || typeUrl.equals(XdsResources.CLUSTER);
    }

    void cancelDelayedNack() {
        if (delayedNack != null) {
            delayedNack.cancel(false);
            delayedNack = null;
        }
    }
}
