package io.remora.filters.it;

import java.util.concurrent.atomic.AtomicInteger;

/** Counts calls; {@link #failing} makes {@code sayHello} throw (a business error the breaker counts). */
public final class HelloServiceImpl implements HelloService {

    public final AtomicInteger calls = new AtomicInteger();
    public volatile boolean failing;

    @Override
    public String sayHello(String name) {
        calls.incrementAndGet();
        if (failing) {
            throw new IllegalStateException("provider failure for " + name);
        }
        return "hello " + name;
    }

    @Override
    public String slow(long millis) {
        calls.incrementAndGet();
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return "slept " + millis;
    }
}
