package io.remora.testkit.dubbo;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/** The service the Dubbo end-to-end tests call through the sidecar. */
public interface DemoService {

    String sayHello(String name);

    CompletableFuture<String> sayHelloAsync(String name);

    /** Called oneway (the consumer configures {@code return=false}). */
    void fire(String message);

    Person echo(Person p);

    List<Person> echoAll(List<Person> people);

    /** Returns the length of the argument and its last character, so a large string proves it arrived whole. */
    String large(String s);

    /** Answers after {@code millis}: a provider slower than the route's timeout. */
    String slow(int millis);

    /** The value of an RpcContext attachment as the provider sees it. */
    String attachment(String key);
}
