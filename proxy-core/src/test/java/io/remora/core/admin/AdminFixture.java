package io.remora.core.admin;

import io.remora.core.testproto.TestUpstream;
import io.remora.testing.TestSidecar;

/**
 * A sidecar with what every admin view has something to say about: an outbound listener on a named route config, an
 * inbound listener with inline routes, a health-checked cluster with fault isolation and labelled hosts, a second
 * cluster, node metadata, and secrets in a plugin section (which no dump may show).
 */
final class AdminFixture implements AutoCloseable {

    static final String SECRET = "hunter2-do-not-show";
    static final String NESTED_SECRET = "s3cr3t-nested-key";

    final TestUpstream upstream;
    final TestSidecar sidecar;
    final AdminClient admin;

    private AdminFixture(TestUpstream upstream, TestSidecar sidecar) {
        this.upstream = upstream;
        this.sidecar = sidecar;
        this.admin = new AdminClient(sidecar.sidecar().adminAddress() == null ? -1 : sidecar.adminPort());
    }

    static String config(int upstreamPort, String adminSection) {
        return """
                {"admin":%s,
                 "node":{"id":"sidecar~10.0.0.7~demo","app":"demo-app","cluster":"demo",
                         "labels":{"zone":"z1","api_token":"node-label-secret"}},
                 "listeners":[
                   {"name":"out","address":"127.0.0.1:0","protocol":"testrpc","route_config":"rpc_routes"},
                   {"name":"in","address":"127.0.0.1:0","protocol":"testrpc","direction":"inbound",
                    "routes":[{"match":{"service":"*"},"cluster":"local_app"}]}],
                 "route_configs":[{"name":"rpc_routes","routes":[
                   {"name":"echo","match":{"service":"svc.Echo","headers":[{"name":"x-env","exact":"gray"}]},
                    "cluster":"echo","timeout_ms":1500,
                    "retry_policy":{"num_retries":2,"retry_on":["connect_failure"]}},
                   {"name":"echo-any","match":{"service":"svc.Echo"},"cluster":"echo"},
                   {"name":"split","match":{"service":"svc.Other"},
                    "weighted_clusters":[{"cluster":"echo","weight":80},{"cluster":"local_app","weight":20}]}]}],
                 "clusters":[
                   {"name":"echo","hosts":[{"address":"127.0.0.1:%d","weight":3,"labels":{"zone":"z1"}}],
                    "health_check":{"type":"tcp","interval_ms":600000},
                    "outlier_detection":{"window_seconds":10,"error_ratio_percent":40,"min_requests":5}},
                   {"name":"local_app","hosts":[{"address":"127.0.0.1:%d"}]}],
                 "extensions":{"vault":{"password":"%s","token":"abc","user":"ops",
                                        "credentials":{"key":"%s"}}}}
                """.formatted(adminSection, upstreamPort, upstreamPort, SECRET, NESTED_SECRET);
    }

    static AdminFixture start() throws Exception {
        return start("{\"port\":0}");
    }

    static AdminFixture start(String adminSection) throws Exception {
        TestUpstream upstream = new TestUpstream();
        try {
            return new AdminFixture(upstream, TestSidecar.start(config(upstream.port(), adminSection)));
        } catch (Exception e) {
            upstream.close();
            throw e;
        }
    }

    @Override
    public void close() {
        sidecar.close();
        upstream.close();
    }
}
