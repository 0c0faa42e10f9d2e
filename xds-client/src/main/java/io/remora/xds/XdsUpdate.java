package io.remora.xds;

import com.google.protobuf.Any;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.Resource;
import io.envoyproxy.envoy.service.discovery.v3.ResourceName;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One response of either wire dialect, as the resource store sees it. {@code stateOfTheWorld}: a SotW response, where
 * a wildcard type's resources replace the whole set; a delta response only adds, changes and {@code removed}.
 * {@code version} is SotW's {@code version_info} or delta's {@code system_version_info}.
 */
record XdsUpdate(String typeUrl, String version, String nonce, List<Entry> resources, List<String> removed,
                 boolean stateOfTheWorld) {

    /**
     * One resource. {@code name}, {@code aliases} and {@code version} come from a delta {@link Resource} wrapper (null
     * in plain SotW, where the name is inside the resource and the version is the response's); {@code resource} is
     * null for a delta TTL heartbeat (no body: nothing changes).
     */
    record Entry(String name, List<String> aliases, String version, Any resource) {
    }

    static XdsUpdate of(DiscoveryResponse r) {
        List<Entry> out = new ArrayList<>(r.getResourcesCount());
        for (Any a : r.getResourcesList()) {
            out.add(new Entry(null, List.of(), null, a));
        }
        return new XdsUpdate(r.getTypeUrl(), r.getVersionInfo(), r.getNonce(), out, List.of(), true);
    }

    static XdsUpdate of(DeltaDiscoveryResponse r) {
        List<Entry> out = new ArrayList<>(r.getResourcesCount());
        for (Resource res : r.getResourcesList()) {
            out.add(entry(res));
        }
        List<String> removed = new ArrayList<>(r.getRemovedResourcesList());
        for (ResourceName n : r.getRemovedResourceNamesList()) {
            removed.add(n.getName());
        }
        return new XdsUpdate(r.getTypeUrl(), r.getSystemVersionInfo(), r.getNonce(), out, List.copyOf(removed), false);
    }

    /** A {@link Resource} wrapper (delta, or SotW with {@code xds.config.resource-in-sotw}). */
    static Entry entry(Resource res) {
        String name = res.hasResourceName() ? res.getResourceName().getName() : res.getName();
        return new Entry(name, List.copyOf(res.getAliasesList()), res.getVersion(),
                res.hasResource() ? res.getResource() : null);
    }

    /** Tells a resent identical response from a new one (re-NACKs of the same bad config are paced). */
    String contentKey() {
        return version + "|" + Objects.hash(resources, removed);
    }
}
