package io.remora.testkit.dubbo;

/** System properties every Dubbo test peer needs (see dependencies.md "Test peers, gotchas"). Idempotent. */
public final class DubboPeers {

    private DubboPeers() {
    }

    public static void configure() {
        System.setProperty("dubbo.network.interface.ignored", ".*");
        System.setProperty("dubbo.service.shutdown.wait", "200");
        System.setProperty("dubbo.application.qos-enable", "false");
        System.setProperty("dubbo.application.qos.enable", "false");
        System.setProperty("dubbo.application.logger", "slf4j");
        System.setProperty("dubbo.application.check-serializable", "true");
    }
}
