package io.remora.examples.dubbo;

/** Dubbo 3.3 settings every demo process needs on loopback (see shared/dependencies.md, "Test peers, gotchas"). */
final class DubboSettings {

    private DubboSettings() {
    }

    static void applyLoopbackDefaults() {
        // Otherwise Dubbo replaces 127.0.0.1 with the NIC address in the URLs it builds.
        System.setProperty("dubbo.network.interface.ignored", ".*");
        // Otherwise shutdown waits 10+ seconds for in-flight calls.
        System.setProperty("dubbo.service.shutdown.wait", "1000");
    }
}
