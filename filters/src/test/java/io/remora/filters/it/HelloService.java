package io.remora.filters.it;

/** The SOFARPC service the integration tests call (unique name {@code io.remora.filters.it.HelloService:1.0}). */
public interface HelloService {

    String sayHello(String name);

    /** Answers after {@code millis}. */
    String slow(long millis);
}
