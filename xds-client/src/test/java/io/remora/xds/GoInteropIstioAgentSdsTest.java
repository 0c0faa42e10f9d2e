package io.remora.xds;

import io.remora.xds.controlplane.GoControlPlane;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The Istio-shaped push with the secrets served the way istio-agent serves them: SDS's own {@code StreamSecrets}
 * service on a unix socket ({@code extensions.xds.sds_address}), the rest over ADS (SotW). Needs epoll (Linux).
 */
class GoInteropIstioAgentSdsTest extends GoInteropIstioScenarios {

    private static final Path SOCKET = socket();

    private static Path socket() {
        try {
            return Files.createTempDirectory("remora-sds").resolve("socket");
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Override
    String api() {
        return "sotw";
    }

    @Override
    GoControlPlane.Cache cache() {
        return GoControlPlane.Cache.SNAPSHOT;
    }

    @Override
    Path sdsSocket() {
        return SOCKET;
    }
}
