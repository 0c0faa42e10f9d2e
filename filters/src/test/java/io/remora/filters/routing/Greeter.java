package io.remora.filters.routing;

/** The service the routing tests call (its own interface: SOFARPC counts exports per interface per JVM). */
public interface Greeter {
    /** Answers with the provider's id. */
    String sayHello(String name);

    String slow(long millis);
}
