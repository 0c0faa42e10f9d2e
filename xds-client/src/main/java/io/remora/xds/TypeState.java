package io.remora.xds;

import com.google.protobuf.Message;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ScheduledFuture;

/**
 * Per resource type: the protocol state (version, nonce, subscription) and the accepted resources. {@code raw} is
 * what the control plane sent and we accepted; {@code translated} is what the assembler uses (it may also hold an
 * empty endpoint set for an EDS resource the server removed, which has no raw form).
 */
final class TypeState {

    /** {@code version}: the resource's own version (delta) or the response's {@code version_info} (SotW). */
    record ResourceInfo(String version, Instant acceptedAt) {
    }

    final String typeUrl;
    /** The last ACKed version (SotW {@code version_info}, delta {@code system_version_info}); sent again with a NACK. */
    String version = "";
    /** The nonce of the last response on the current stream. */
    String nonce = "";
    /** Subscribed names, sorted; empty for the wildcard types (LDS, CDS). */
    Set<String> names = Set.of();
    boolean received;
    Map<String, Message> raw = new HashMap<>();
    Map<String, Object> translated = new HashMap<>();
    Map<String, ResourceInfo> info = new HashMap<>();
    /** Delta: names a NACKed response carried (or removed) that we do not hold at that version; see resync. */
    Set<String> stale = new java.util.HashSet<>();
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

    /** What the client holds, name to version: a delta stream's {@code initial_resource_versions}. */
    Map<String, String> heldVersions() {
        Map<String, String> out = new TreeMap<>();
        for (String name : raw.keySet()) {
            ResourceInfo i = info.get(name);
            if (i != null && !i.version().isEmpty()) {
                out.put(name, i.version());
            }
        }
        return out;
    }

    void cancelDelayedNack() {
        if (delayedNack != null) {
            delayedNack.cancel(false);
            delayedNack = null;
        }
    }
}
