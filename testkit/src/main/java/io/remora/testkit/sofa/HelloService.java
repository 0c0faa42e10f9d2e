package io.remora.testkit.sofa;

/** The SOFARPC test service (unique name {@code io.remora.testkit.sofa.HelloService:1.0[:uniqueId]}). */
public interface HelloService {

    String sayHello(String name);

    byte[] echo(byte[] data);

    /** Answers after {@code millis}: for timeout tests. */
    String slow(long millis);

    /** Called oneway by tests. */
    void notify(String message);
}
