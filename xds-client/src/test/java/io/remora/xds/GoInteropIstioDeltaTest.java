package io.remora.xds;

import io.remora.xds.controlplane.GoControlPlane;

/** The Istio-shaped push over delta ADS (go-control-plane's linear caches, per-resource versions). */
class GoInteropIstioDeltaTest extends GoInteropIstioScenarios {

    @Override
    String api() {
        return "delta";
    }

    @Override
    GoControlPlane.Cache cache() {
        return GoControlPlane.Cache.LINEAR;
    }
}
