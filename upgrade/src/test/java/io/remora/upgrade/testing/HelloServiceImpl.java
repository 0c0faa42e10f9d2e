package io.remora.upgrade.testing;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

/** Records every call as {@code method:arg} so tests can await what the provider saw. */
public final class HelloServiceImpl implements HelloService {

    private final BlockingQueue<String> calls = new LinkedBlockingQueue<>();

    public BlockingQueue<String> calls() {
        return calls;
    }

    @Override
    public String sayHello(String name) {
        calls.add("sayHello:" + name);
        return "hello " + name;
    }

    @Override
    public byte[] echo(byte[] data) {
        calls.add("echo:" + data.length);
        return data;
    }

    @Override
    public String slow(long millis) {
        calls.add("slow:" + millis);
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return "slept " + millis;
    }

    @Override
    public void notify(String message) {
        calls.add("notify:" + message);
    }
}
