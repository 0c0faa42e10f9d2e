package io.remora.examples.bench;

import java.net.InetSocketAddress;
import java.util.List;

/**
 * One protocol the harness can drive: it starts a provider and opens callers to a target (the provider itself, or the
 * sidecar in front of it). Bolt today; Dubbo and HTTP are new implementations registered in {@link #all()}.
 */
interface LoadMode {

    /** The {@code --mode} name. */
    String name();

    /** The sidecar listener protocol for this mode (a protocol plugin name). */
    String listenerProtocol();

    /** Starts a provider on 127.0.0.1:{@code port} answering every call with {@code payloadBytes} of body. */
    AutoCloseable startProvider(int port, int payloadBytes) throws Exception;

    /** A client to {@code target} over {@code connections} connections; {@link Caller#call()} is thread-safe. */
    Caller connect(InetSocketAddress target, int connections, int payloadBytes) throws Exception;

    /** Makes one blocking call; throws if the call failed. */
    interface Caller extends AutoCloseable {

        void call() throws Exception;

        @Override
        void close();
    }

    static List<LoadMode> all() {
        return List.of(new BoltMode());
    }

    static LoadMode byName(String name) {
        for (LoadMode m : all()) {
            if (m.name().equals(name)) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown --mode " + name + " (one of "
                + all().stream().map(LoadMode::name).toList() + ")");
    }
}
