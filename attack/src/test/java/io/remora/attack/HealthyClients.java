package io.remora.attack;

import io.remora.testkit.dubbo.DemoConsumer;
import io.remora.testkit.dubbo.DemoService;
import io.remora.testkit.sofa.HelloService;
import io.remora.testkit.sofa.SofaRpcPeers;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A healthy SOFARPC client, a healthy Dubbo client and a healthy HTTP/1.1 client, each calling through the sidecar
 * in a loop on its own thread (paced, so the attacks get the CPU too) with bounded timeouts: a hang shows up as a
 * timeout failure. A call ends in success, in the sidecar's clear overload error (counted apart: expected only
 * while the overload manager sheds), or in a failure, whose first messages are kept.
 */
final class HealthyClients implements AutoCloseable {

    static final int TIMEOUT_MS = 3000;
    private static final long PACE_MS = 15;

    /** Counters of one protocol's client. */
    static final class Counts {
        final String protocol;
        final AtomicLong ok = new AtomicLong();
        final AtomicLong overload = new AtomicLong();
        final AtomicLong failed = new AtomicLong();
        final List<String> failures = new ArrayList<>();

        Counts(String protocol) {
            this.protocol = protocol;
        }

        void fail(String why) {
            failed.incrementAndGet();
            synchronized (failures) {
                if (failures.size() < 5) {
                    failures.add(why);
                }
            }
        }

        long[] snapshot() {
            return new long[] {ok.get(), overload.get(), failed.get()};
        }

        List<String> failures() {
            synchronized (failures) {
                return List.copyOf(failures);
            }
        }
    }

    /** Calls made between two snapshots, per protocol: ok, overload errors, failures. */
    record Window(long[] bolt, long[] dubbo, long[] http, List<String> failures) {
        long calls() {
            return sum(0) + sum(1) + sum(2);
        }

        long sum(int i) {
            return bolt[i] + dubbo[i] + http[i];
        }

        long failed() {
            return sum(2);
        }

        long overload() {
            return sum(1);
        }

        String describe() {
            return String.format("bolt %d/%d/%d, dubbo %d/%d/%d, http %d/%d/%d", bolt[0], bolt[1], bolt[2],
                    dubbo[0], dubbo[1], dubbo[2], http[0], http[1], http[2]);
        }
    }

    private final Counts bolt = new Counts("bolt");
    private final Counts dubbo = new Counts("dubbo");
    private final Counts http = new Counts("http");
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean running = true;
    private final SofaRpcPeers sofa;
    private final DemoConsumer dubboConsumer;

    HealthyClients(SofaRpcPeers sofa, int boltPort, int dubboPort, int httpPort) {
        this.sofa = sofa;
        HelloService hello = sofa.consumer(HelloService.class, boltPort, TIMEOUT_MS);
        dubboConsumer = new DemoConsumer("healthy-dubbo");
        DemoService demo = dubboConsumer.demo(dubboPort, "g1", TIMEOUT_MS, 1);
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofMillis(TIMEOUT_MS)).build();
        HttpRequest get = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/hello"))
                .timeout(Duration.ofMillis(TIMEOUT_MS)).GET().build();
        // one warm-up call each: the clients are connected and every path works before any attack
        String h = hello.sayHello("warm-up");
        if (!h.contains("warm-up")) {
            throw new AssertionError("unexpected SOFARPC reply " + h);
        }
        demo.sayHello("warm-up");
        try {
            HttpResponse<String> r = client.send(get, HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                throw new AssertionError("HTTP warm-up: " + r.statusCode() + " " + r.body());
            }
        } catch (Exception e) {
            throw new AssertionError("HTTP warm-up failed", e);
        }
        loop(bolt, () -> {
            String r = hello.sayHello("healthy");
            return r.equals("hello healthy") ? null : "reply " + r;
        });
        loop(dubbo, () -> {
            String r = demo.sayHello("healthy");
            return r.startsWith("hello healthy") ? null : "reply " + r;
        });
        loop(http, () -> {
            HttpResponse<String> r = client.send(get, HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() == 200 && r.body().equals("hello")) {
                return null;
            }
            if (r.statusCode() == 503 && r.body().contains("sidecar overloaded")) {
                throw new OverloadSeen();
            }
            return "HTTP " + r.statusCode() + " " + r.headers().firstValue("x-remora-error").orElse("") + " "
                    + r.body();
        });
    }

    private interface Call {
        /** Null on success, else what was wrong with the answer. */
        String call() throws Exception;
    }

    private static final class OverloadSeen extends RuntimeException {
        OverloadSeen() {
            super("sidecar overloaded", null, false, false);
        }
    }

    private void loop(Counts c, Call call) {
        Thread t = new Thread(() -> {
            while (running) {
                try {
                    String wrong = call.call();
                    if (wrong == null) {
                        c.ok.incrementAndGet();
                    } else {
                        c.fail(wrong);
                    }
                } catch (OverloadSeen e) {
                    c.overload.incrementAndGet();
                } catch (Exception e) {
                    String m = String.valueOf(e.getMessage());
                    if (m.contains("sidecar overloaded")) {
                        c.overload.incrementAndGet();
                    } else {
                        c.fail(e.getClass().getSimpleName() + ": " + m);
                    }
                }
                try {
                    Thread.sleep(PACE_MS); // pacing: a healthy client, not a load generator
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "healthy-" + c.protocol);
        t.setDaemon(true);
        t.start();
        threads.add(t);
    }

    /** Counter values now, to diff with a later {@link #since}. */
    long[][] mark() {
        return new long[][] {bolt.snapshot(), dubbo.snapshot(), http.snapshot()};
    }

    Window since(long[][] mark) {
        long[][] now = mark();
        List<String> f = new ArrayList<>();
        for (Counts c : List.of(bolt, dubbo, http)) {
            c.failures().forEach(m -> f.add(c.protocol + ": " + m));
        }
        return new Window(diff(now[0], mark[0]), diff(now[1], mark[1]), diff(now[2], mark[2]), f);
    }

    /** Forgets the kept failure messages (after they were reported). */
    void clearFailures() {
        for (Counts c : List.of(bolt, dubbo, http)) {
            synchronized (c.failures) {
                c.failures.clear();
            }
        }
    }

    private static long[] diff(long[] a, long[] b) {
        return new long[] {a[0] - b[0], a[1] - b[1], a[2] - b[2]};
    }

    /** Waits until every client made at least {@code n} more calls after {@code mark} (bounded). */
    void awaitCalls(long[][] mark, int n, long timeoutMillis) throws InterruptedException {
        long end = System.currentTimeMillis() + timeoutMillis;
        while (System.currentTimeMillis() < end) {
            Window w = since(mark);
            if (total(w.bolt()) >= n && total(w.dubbo()) >= n && total(w.http()) >= n) {
                return;
            }
            Thread.sleep(20); // the client threads count on their own
        }
    }

    private static long total(long[] c) {
        return c[0] + c[1] + c[2];
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        for (Thread t : threads) {
            t.join(TIMEOUT_MS * 2L);
        }
        sofa.closeConsumers();
        dubboConsumer.close();
    }
}
