package io.remora.xds;

import io.remora.xds.controlplane.GoControlPlane;

/** The Istio-shaped push over state-of-the-world ADS (go-control-plane's snapshot cache), as istiod serves it. */
class GoInteropIstioSotwTest extends GoInteropIstioScenarios {

    @Override
    String api() {
        return "sotw";
    }

    @Override
    GoControlPlane.Cache cache() {
        return GoControlPlane.Cache.SNAPSHOT;
    }
}
