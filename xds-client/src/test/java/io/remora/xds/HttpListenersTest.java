package io.remora.xds;

import static io.remora.testkit.xds.EnvoyResources.address;
import static io.remora.testkit.xds.EnvoyResources.header;
import static io.remora.testkit.xds.EnvoyResources.httpFilter;
import static io.remora.testkit.xds.EnvoyResources.struct;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.Any;
import com.google.protobuf.UInt32Value;
import com.google.protobuf.util.Durations;
import io.envoyproxy.envoy.config.core.v3.RuntimeFractionalPercent;
import io.envoyproxy.envoy.config.core.v3.TrafficDirection;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.config.route.v3.RetryPolicy;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.config.route.v3.WeightedCluster;
import io.envoyproxy.envoy.extensions.filters.common.fault.v3.FaultDelay;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.FaultAbort;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault;
import io.envoyproxy.envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.type.matcher.v3.RegexMatcher;
import io.envoyproxy.envoy.type.v3.FractionalPercent;
import io.envoyproxy.envoy.type.v3.TokenBucket;
import io.remora.core.config.ConfigException;
import io.remora.core.config.SidecarConfig;
import io.remora.xds.XdsResources.XListener;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class HttpListenersTest {

    private final List<String> warnings = new ArrayList<>();
    private final XdsTranslator t = new XdsTranslator(warnings::add);

    private static final HttpFilter ROUTER = httpFilter("envoy.filters.http.router",
            "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router", false);

    private static Listener listener(HttpConnectionManager.Builder hcm, TrafficDirection dir) {
        return Listener.newBuilder().setName("web").setAddress(address("127.0.0.1", 8080)).setTrafficDirection(dir)
                .addFilterChains(FilterChain.newBuilder().addFilters(Filter.newBuilder()
                        .setName("envoy.filters.network.http_connection_manager").setTypedConfig(Any.pack(hcm.build()))))
                .build();
    }

    private static Route prefix(String prefix, String cluster) {
        return Route.newBuilder().setMatch(RouteMatch.newBuilder().setPrefix(prefix))
                .setRoute(RouteAction.newBuilder().setCluster(cluster)).build();
    }

    @Test
    void translatesInlineRoutesWithDomainsPathsHeadersRetriesAndTimeouts() throws Exception {
        RouteConfiguration rc = RouteConfiguration.newBuilder().setName("inline")
                .addVirtualHosts(VirtualHost.newBuilder().setName("fallback").addDomains("*")
                        .addRoutes(prefix("/", "default")))
                .addVirtualHosts(VirtualHost.newBuilder().setName("wild").addDomains("*.example.com")
                        .addRoutes(prefix("/static/", "cdn")))
                .addVirtualHosts(VirtualHost.newBuilder().setName("api").addDomains("API.example.com")
                        .addDomains("api.example.com:443")
                        .addRoutes(Route.newBuilder().setMatch(RouteMatch.newBuilder().setPath("/health"))
                                .setRoute(RouteAction.newBuilder().setCluster("health")
                                        .setTimeout(Durations.fromMillis(250))))
                        .addRoutes(Route.newBuilder().setName("items").setMatch(RouteMatch.newBuilder()
                                        .setSafeRegex(RegexMatcher.newBuilder().setRegex("/items/[0-9]+"))
                                        .addHeaders(header("x-env", "gray"))
                                        .addHeaders(HeaderMatcher.newBuilder().setName("x-debug").setPresentMatch(true)))
                                .setRoute(RouteAction.newBuilder().setWeightedClusters(WeightedCluster.newBuilder()
                                                .addClusters(WeightedCluster.ClusterWeight.newBuilder().setName("v1")
                                                        .setWeight(UInt32Value.of(90)))
                                                .addClusters(WeightedCluster.ClusterWeight.newBuilder().setName("v2")
                                                        .setWeight(UInt32Value.of(10))))
                                        .setRetryPolicy(RetryPolicy.newBuilder().setRetryOn("5xx,connect-failure,"
                                                        + "envoy-ratelimited")
                                                .setNumRetries(UInt32Value.of(2))
                                                .setPerTryTimeout(Durations.fromMillis(500))))))
                .build();
        XListener x = t.listener(listener(HttpConnectionManager.newBuilder()
                .setCodecType(HttpConnectionManager.CodecType.HTTP2).setRouteConfig(rc).addHttpFilters(ROUTER),
                TrafficDirection.INBOUND));
        SidecarConfig.Listener l = x.listener();
        assertEquals("http2", l.protocol());
        assertEquals("inbound", l.direction());
        assertEquals("127.0.0.1:8080", l.address());
        assertNull(x.rds());
        assertEquals(java.util.Set.of("default", "cdn", "health", "v1", "v2"), x.inlineClusters());
        List<SidecarConfig.Route> rs = l.routes();
        // exact domains first (port dropped, duplicates merged), then *.example.com, then *
        assertEquals(4, rs.size(), rs.toString());
        assertEquals("api.example.com", rs.get(0).match().service());
        assertEquals("/health", rs.get(0).match().path());
        assertEquals(250L, rs.get(0).timeoutMs());
        SidecarConfig.Route items = rs.get(1);
        assertEquals("/items/[0-9]+", items.match().pathRegex());
        assertEquals(List.of(new SidecarConfig.HeaderMatch("x-env", "gray", null, null),
                new SidecarConfig.HeaderMatch("x-debug", null, null, true)), items.match().headers());
        assertEquals(List.of("retriable_status", "timeout", "connect_failure"), items.retryPolicy().retryOn());
        assertEquals(2, items.retryPolicy().numRetries());
        assertEquals(500L, items.retryPolicy().perTryTimeoutMs());
        assertEquals(Boolean.TRUE, items.retryPolicy().idempotent());
        assertTrue(warnings.stream().anyMatch(w -> w.contains("envoy-ratelimited")), warnings.toString());
        assertEquals("*", rs.get(2).match().service());
        assertEquals("/static/", rs.get(2).match().prefix());
        assertEquals(":authority", rs.get(2).match().headers().get(0).name());
        assertEquals("*", rs.get(3).match().service());
        assertNull(rs.get(3).match().prefix(), "prefix / matches everything");
    }

    @Test
    void wildcardDomainsBecomeCaseInsensitiveAuthorityRegexes() {
        Pattern suffix = Pattern.compile(XdsTranslator.domainRegex("*.example.com"));
        assertTrue(suffix.matcher("a.example.com").matches());
        assertTrue(suffix.matcher("A.B.Example.com:8443").matches());
        assertFalse(suffix.matcher("example.com").matches());
        assertFalse(suffix.matcher("a.example.community").matches());
        Pattern prefix = Pattern.compile(XdsTranslator.domainRegex("www.*"));
        assertTrue(prefix.matcher("www.shop.io:80").matches());
        assertFalse(prefix.matcher("api.shop.io").matches());
    }

    @Test
    void mapsFaultLocalRateLimitAndGovernanceHttpFiltersToRulesAndListenerFilters() throws Exception {
        HTTPFault fault = HTTPFault.newBuilder()
                .setAbort(FaultAbort.newBuilder().setHttpStatus(503).setPercentage(FractionalPercent.newBuilder()
                        .setNumerator(250).setDenominator(FractionalPercent.DenominatorType.TEN_THOUSAND)))
                .setDelay(FaultDelay.newBuilder().setFixedDelay(Durations.fromMillis(200)))
                .addHeaders(header("x-chaos", "on")).build();
        RuntimeFractionalPercent full = RuntimeFractionalPercent.newBuilder().setDefaultValue(FractionalPercent
                .newBuilder().setNumerator(100)).build();
        LocalRateLimit rl = LocalRateLimit.newBuilder().setStatPrefix("rl").setTokenBucket(TokenBucket.newBuilder()
                        .setMaxTokens(200).setTokensPerFill(UInt32Value.of(100))
                        .setFillInterval(Durations.fromSeconds(1)))
                .setFilterEnabled(full).setFilterEnforced(full).build();
        HttpFilter governance = HttpFilter.newBuilder().setName("remora.governance").setTypedConfig(Any.pack(
                com.github.xds.type.v3.TypedStruct.newBuilder().setTypeUrl(XdsResources.GOVERNANCE).setValue(struct(
                        "{\"circuit_breaker\":[{\"name\":\"cb\",\"direction\":\"client\",\"service\":\"*\","
                                + "\"type\":\"error_ratio\",\"error_ratio_threshold\":0.5}]}")).build())).build();
        XListener x = t.listener(listener(HttpConnectionManager.newBuilder().setRds(
                        io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds.newBuilder()
                                .setRouteConfigName("web_routes"))
                .addHttpFilters(HttpFilter.newBuilder().setName("envoy.filters.http.fault")
                        .setTypedConfig(Any.pack(fault)))
                .addHttpFilters(HttpFilter.newBuilder().setName("envoy.filters.http.local_ratelimit")
                        .setTypedConfig(Any.pack(rl)))
                .addHttpFilters(governance).addHttpFilters(ROUTER), TrafficDirection.OUTBOUND));
        assertEquals("web_routes", x.rds());
        assertEquals("http", x.listener().protocol());
        assertEquals(List.of("fault_inject", "rate_limit", "circuit_breaker"),
                x.listener().filters().stream().map(SidecarConfig.Filter::type).toList());
        JsonNode g = x.governance();
        assertEquals("web.fault.abort", g.at("/fault_inject/0/name").asText());
        assertEquals("client", g.at("/fault_inject/0/direction").asText());
        assertEquals(503, g.at("/fault_inject/0/abort_status").asInt());
        assertEquals(2.5, g.at("/fault_inject/0/percentage").asDouble(), 1e-9);
        assertEquals("x-chaos", g.at("/fault_inject/0/conditions/1/field").asText());
        assertEquals(200, g.at("/fault_inject/1/delay_ms").asInt());
        assertEquals(100.0, g.at("/fault_inject/1/percentage").asDouble(), 1e-9);
        assertEquals("qps", g.at("/rate_limit/0/type").asText());
        assertEquals(100, g.at("/rate_limit/0/threshold").asInt());
        assertEquals(1000, g.at("/rate_limit/0/unit_ms").asInt());
        assertEquals(2.0, g.at("/rate_limit/0/bucket_coefficient").asDouble(), 1e-9);
        assertEquals("intercept", g.at("/rate_limit/0/mode").asText());
        assertEquals("cb", g.at("/circuit_breaker/0/name").asText());
    }

    @Test
    void requiresTheRouterAndRejectsRequiredUnknownHttpFilters() throws Exception {
        HttpConnectionManager.Builder noRouter = HttpConnectionManager.newBuilder().setRds(
                io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds.newBuilder()
                        .setRouteConfigName("r"));
        ConfigException e = assertThrows(ConfigException.class,
                () -> t.listener(listener(noRouter.clone(), TrafficDirection.OUTBOUND)));
        assertTrue(e.getMessage().contains("envoy.filters.http.router"), e.getMessage());

        HttpFilter authz = httpFilter("envoy.filters.http.ext_authz",
                "type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz", false);
        e = assertThrows(ConfigException.class, () -> t.listener(listener(noRouter.clone().addHttpFilters(authz)
                .addHttpFilters(ROUTER), TrafficDirection.OUTBOUND)));
        assertTrue(e.getMessage().contains("\"envoy.filters.http.ext_authz\"") && e.getMessage().contains("ExtAuthz")
                && e.getMessage().contains("is_optional"), e.getMessage());

        XListener ok = t.listener(listener(noRouter.clone().addHttpFilters(authz.toBuilder().setIsOptional(true))
                .addHttpFilters(ROUTER), TrafficDirection.OUTBOUND));
        assertEquals("r", ok.rds());
        assertNull(ok.listener().filters());
        assertTrue(warnings.stream().anyMatch(w -> w.contains("ext_authz")), warnings.toString());
    }

    @Test
    void ignoresIstiosTelemetryAndPeerFiltersWithOneWarningEach() throws Exception {
        HttpConnectionManager.Builder hcm = HttpConnectionManager.newBuilder().setRds(
                io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds.newBuilder()
                        .setRouteConfigName("r"))
                .addHttpFilters(httpFilter("istio.metadata_exchange",
                        "type.googleapis.com/io.istio.http.peer_metadata.Config", false))
                .addHttpFilters(httpFilter("envoy.filters.http.grpc_stats",
                        "type.googleapis.com/envoy.extensions.filters.http.grpc_stats.v3.FilterConfig", false))
                .addHttpFilters(httpFilter("istio.alpn",
                        "type.googleapis.com/istio.envoy.config.filter.http.alpn.v2alpha1.FilterConfig", false))
                .addHttpFilters(httpFilter("envoy.filters.http.cors",
                        "type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors", false))
                .addHttpFilters(HttpFilter.newBuilder().setName("istio.stats").setTypedConfig(Any.pack(
                        com.github.udpa.udpa.type.v1.TypedStruct.newBuilder()
                                .setTypeUrl("type.googleapis.com/stats.PluginConfig").build())))
                .addHttpFilters(ROUTER);
        XListener x = t.listener(listener(hcm.clone(), TrafficDirection.OUTBOUND));
        assertEquals("r", x.rds());
        assertEquals(5, warnings.size(), warnings.toString());
        // a second listener with the same filters adds no warning
        t.listener(listener(hcm.clone(), TrafficDirection.INBOUND).toBuilder().setName("other").build());
        assertEquals(5, new java.util.HashSet<>(warnings).size(), warnings.toString());
    }

    @Test
    void ignoresRbacThatEnforcesNothingAndRejectsRequiredEnforcingRbac() throws Exception {
        var allowAll = io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC.newBuilder().setRules(
                io.envoyproxy.envoy.config.rbac.v3.RBAC.newBuilder().setAction(
                        io.envoyproxy.envoy.config.rbac.v3.RBAC.Action.ALLOW).putPolicies("all",
                        io.envoyproxy.envoy.config.rbac.v3.Policy.newBuilder()
                                .addPermissions(io.envoyproxy.envoy.config.rbac.v3.Permission.newBuilder().setAny(true))
                                .addPrincipals(io.envoyproxy.envoy.config.rbac.v3.Principal.newBuilder().setAny(true))
                                .build())).build();
        HttpConnectionManager.Builder hcm = HttpConnectionManager.newBuilder().setRds(
                io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds.newBuilder()
                        .setRouteConfigName("r"));
        t.listener(listener(hcm.clone().addHttpFilters(HttpFilter.newBuilder().setName("envoy.filters.http.rbac")
                .setTypedConfig(Any.pack(allowAll))).addHttpFilters(ROUTER), TrafficDirection.INBOUND));
        assertTrue(warnings.stream().anyMatch(w -> w.contains("no enforcing rules")), warnings.toString());

        var denySome = io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC.newBuilder().setRules(
                io.envoyproxy.envoy.config.rbac.v3.RBAC.newBuilder().setAction(
                        io.envoyproxy.envoy.config.rbac.v3.RBAC.Action.DENY).putPolicies("ns",
                        io.envoyproxy.envoy.config.rbac.v3.Policy.newBuilder()
                                .addPermissions(io.envoyproxy.envoy.config.rbac.v3.Permission.newBuilder().setAny(true))
                                .addPrincipals(io.envoyproxy.envoy.config.rbac.v3.Principal.newBuilder()
                                        .setNotId(io.envoyproxy.envoy.config.rbac.v3.Principal.newBuilder()
                                                .setAny(true)))
                                .build())).build();
        ConfigException e = assertThrows(ConfigException.class, () -> t.listener(listener(hcm.clone()
                .addHttpFilters(HttpFilter.newBuilder().setName("envoy.filters.http.rbac")
                        .setTypedConfig(Any.pack(denySome))).addHttpFilters(ROUTER), TrafficDirection.INBOUND)));
        assertTrue(e.getMessage().contains("http_filters[envoy.filters.http.rbac]") && e.getMessage().contains("RBAC"),
                e.getMessage());
    }
}
