package io.remora.xds;

import com.fasterxml.jackson.databind.JsonNode;
import io.remora.core.config.SidecarConfig;
import java.util.List;
import java.util.Set;

/** The xDS resource types we subscribe to and what each translates into. */
final class XdsResources {

    static final String LISTENER = "type.googleapis.com/envoy.config.listener.v3.Listener";
    static final String ROUTE = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";
    static final String CLUSTER = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
    static final String ENDPOINT = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";
    static final String SECRET = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret";

    /** The wrapper a SotW response may use for its resources once the client announces xds.config.resource-in-sotw. */
    static final String RESOURCE_WRAPPER = "type.googleapis.com/envoy.service.discovery.v3.Resource";

    /** Processing and subscription order: CDS, EDS, LDS, RDS, SDS (secrets are asked for by name, like EDS/RDS). */
    static final List<String> ORDER = List.of(CLUSTER, ENDPOINT, LISTENER, ROUTE, SECRET);

    /** TypedStruct inner type URLs that carry our native JSON. */
    static final String RPC_PROXY = "type.googleapis.com/remora.rpc_proxy";
    static final String GOVERNANCE = "type.googleapis.com/remora.governance";
    static final String UDPA_TYPED_STRUCT = "type.googleapis.com/udpa.type.v1.TypedStruct";
    static final String XDS_TYPED_STRUCT = "type.googleapis.com/xds.type.v3.TypedStruct";

    private XdsResources() {
    }

    static String shortName(String typeUrl) {
        return switch (typeUrl) {
            case LISTENER -> "lds";
            case ROUTE -> "rds";
            case CLUSTER -> "cds";
            case ENDPOINT -> "eds";
            case SECRET -> "sds";
            default -> typeUrl;
        };
    }

    /**
     * A translated listener. {@code listener} is null when the resource only carries governance rules or was skipped
     * (no proxy filter); {@code rds} names its route configuration when it uses RDS.
     */
    record XListener(String name, SidecarConfig.Listener listener, String rds, Set<String> inlineClusters,
                     JsonNode governance, Set<String> rdsNames, Set<String> secrets) {

        /** A single-chain listener on at most one route configuration, without TLS. */
        XListener(String name, SidecarConfig.Listener listener, String rds, Set<String> inlineClusters,
                  JsonNode governance) {
            this(name, listener, rds, inlineClusters, governance, rds == null ? Set.of() : Set.of(rds), Set.of());
        }
    }

    record XRoute(SidecarConfig.RouteConfig config, Set<String> clusters) {
    }

    /**
     * A translated cluster; its hosts come from EDS ({@code edsName}) or from its own load assignment.
     * {@code weightsFromEndpoints}: the policy came from Envoy's {@code lb_policy} (not from remora metadata), so it
     * becomes {@code weighted} once the endpoints' weights differ (Envoy's round robin and random honour weights).
     */
    record XCluster(SidecarConfig.Cluster config, String edsName, boolean weightsFromEndpoints,
                    int maxEjectionPercent, String skipped, Set<String> secrets) {

        XCluster(SidecarConfig.Cluster config, String edsName, boolean weightsFromEndpoints, int maxEjectionPercent,
                 String skipped) {
            this(config, edsName, weightsFromEndpoints, maxEjectionPercent, skipped, Set.of());
        }

        /** A cluster left out of the config: {@code reason} says why (a listener routing to it is NACKed). */
        static XCluster skipped(String name, String reason) {
            return new XCluster(new SidecarConfig.Cluster(name, null, null, null, null, null, null, List.of()), null,
                    false, 0, reason);
        }
    }

    record XEndpoints(String name, List<SidecarConfig.Host> hosts) {
    }

    /** A translated SDS secret (the material itself; it goes to the SecretStore, never into the config). */
    record XSecret(String name, io.remora.core.tls.SecretStore.Secret secret) {
        @Override
        public String toString() {
            return "XSecret[" + name + ", " + secret + "]";
        }
    }
}
