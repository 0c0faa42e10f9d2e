package io.remora.testkit.sofa;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Records every call as {@code method:arg} so tests can await what the provider saw, and counts them;
 * {@link #failing} makes {@code sayHello} throw (a business error a breaker counts).
 */
public final class HelloServiceImpl implements HelloService {

    private final BlockingQueue<String> calls = new LinkedBlockingQueue<>();
    private final AtomicInteger count = new AtomicInteger();
    public volatile boolean failing;

    public BlockingQueue<String> calls() {
        return calls;
    }

    /** Calls received so far (every method). */
    public int count() {
        return count.get();
    }

    private void record(String call) {
        count.incrementAndGet();
        calls.add(call);
    }

    @Override
    public String sayHello(String name) {
        record("sayHello:" + name);
        if (failing) {
            throw new IllegalStateException("provider failure for " + name);
        }
        return "hello " + name;
    }

    @Override
    public byte[] echo(byte[] data) {
        record("echo:" + data.length);
        return data;
    }

    @Override
    public String slow(long millis) {
        record("slow:" + millis);
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return "slept " + millis;
    }

    @Override
    public void notify(String message) {
        record("notify:" + message);
    }
}
