package io.remora.injector;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import io.remora.injector.inject.InjectionConfigSource;
import io.remora.injector.inject.InjectionException;
import io.remora.injector.inject.PodInjector;
import io.remora.injector.manifest.ManifestInjector;
import io.remora.injector.webhook.WebhookServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import org.slf4j.LoggerFactory;

/**
 * {@code bin/remora-inject}: offline injection of manifests (the default command, like {@code istioctl kube-inject})
 * and {@code serve}, the admission webhook. Exit codes: 0 done, 1 failed (a pod that cannot be injected, an
 * unreadable file), 2 usage.
 */
public final class InjectorMain {

    static final String USAGE = """
            Usage: remora-inject -f FILE [-o FILE] [--template FILE] [--values FILE] [--quiet]
                   remora-inject serve (--tls-cert FILE --tls-key FILE | --plain-http) [options]

            Inject (like istioctl kube-inject): reads multi-document YAML (-f -: stdin), adds the Remora sidecar to
            every Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job and CronJob, and
            writes the YAML to stdout (-o FILE: to a file). Other objects pass through. A line per workload goes to
            stderr (--quiet: none). --template / --values: the injection template and values (default: bundled).

            serve: the mutating admission webhook (POST /inject; GET /healthz, /ready, /metrics).
              --tls-cert FILE, --tls-key FILE   PEM serving certificate and key (re-read when they change)
              --plain-http                      no TLS (local testing only: Kubernetes calls webhooks over HTTPS)
              --address ADDR                    bind address (default 0.0.0.0)
              --port N                          port (default 9443; 0: any free port)
              --template FILE, --values FILE    the mounted ConfigMap's keys; re-read when they change
              --reload-interval SECONDS         how often files are checked (default 2)
              --failure-mode open|closed        an injection error lets the pod in without a sidecar and warns
                                                (open, default) or denies the pod (closed)
              --threads N                       request threads (default 4)
            """;

    private InjectorMain() {}

    public static void main(String[] args) {
        int code = run(args, System.out, System.err, System.in);
        if (code != 0 || args.length == 0 || !args[0].equals("serve")) System.exit(code);
    }

    /** Runs a command; {@code serve} blocks until the JVM shuts down. */
    static int run(String[] args, PrintStream out, PrintStream err, InputStream in) {
        try {
            if (args.length > 0 && args[0].equals("serve")) return serve(args, out);
            return inject(args, out, err, in);
        } catch (UsageException e) {
            err.println("remora-inject: " + e.getMessage());
            err.print(USAGE);
            return 2;
        } catch (InjectionException | IOException | GeneralSecurityException e) {
            err.println("remora-inject: " + e.getMessage());
            return 1;
        }
    }

    private static int inject(String[] args, PrintStream out, PrintStream err, InputStream in) throws IOException {
        logging(Level.WARN);
        String file = null;
        String output = null;
        Path template = null;
        Path values = null;
        boolean quiet = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "-f", "--filename" -> file = need(args, ++i);
                case "-o", "--output" -> output = need(args, ++i);
                case "--template" -> template = Path.of(need(args, ++i));
                case "--values" -> values = Path.of(need(args, ++i));
                case "-q", "--quiet" -> quiet = true;
                case "-h", "--help" -> {
                    out.print(USAGE);
                    return 0;
                }
                default -> throw new UsageException("unknown argument " + args[i]);
            }
        }
        if (file == null) throw new UsageException("-f FILE is required (-f - reads stdin)");
        String yaml = file.equals("-")
                ? new String(in.readAllBytes(), StandardCharsets.UTF_8)
                : Files.readString(Path.of(file), StandardCharsets.UTF_8);
        InjectionConfigSource config = source(template, values);
        ManifestInjector.Output result = new ManifestInjector(new PodInjector(config))
                .inject(yaml, file.equals("-") ? "stdin" : file);
        if (!quiet) result.notes().forEach(n -> err.println("remora-inject: " + n));
        if (output == null) {
            out.print(result.yaml());
            out.flush();
        } else {
            Path target = Path.of(output).toAbsolutePath();
            Path tmp = Files.createTempFile(target.getParent(), ".remora-inject", ".yaml");
            Files.writeString(tmp, result.yaml(), StandardCharsets.UTF_8);
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
        return 0;
    }

    private static int serve(String[] args, PrintStream out) throws IOException, GeneralSecurityException {
        logging(Level.INFO);
        String address = "0.0.0.0";
        int port = 9443;
        Path cert = null;
        Path key = null;
        boolean plain = false;
        Path template = null;
        Path values = null;
        double reload = 2;
        boolean failClosed = false;
        int threads = 4;
        for (int i = 1; i < args.length; i++) {
            switch (args[i]) {
                case "--address" -> address = need(args, ++i);
                case "--port" -> port = intArg(args, ++i, 0, 65535);
                case "--tls-cert" -> cert = Path.of(need(args, ++i));
                case "--tls-key" -> key = Path.of(need(args, ++i));
                case "--plain-http" -> plain = true;
                case "--template" -> template = Path.of(need(args, ++i));
                case "--values" -> values = Path.of(need(args, ++i));
                case "--reload-interval" -> {
                    try {
                        reload = Double.parseDouble(need(args, ++i));
                    } catch (NumberFormatException e) {
                        throw new UsageException("--reload-interval takes seconds, e.g. 2 or 0.5");
                    }
                    if (!(reload > 0 && reload <= 3600)) {
                        throw new UsageException("--reload-interval: 0 < seconds <= 3600");
                    }
                }
                case "--failure-mode" -> {
                    String m = need(args, ++i);
                    if (!m.equals("open") && !m.equals("closed")) {
                        throw new UsageException("--failure-mode: open or closed");
                    }
                    failClosed = m.equals("closed");
                }
                case "--threads" -> threads = intArg(args, ++i, 1, 256);
                case "-h", "--help" -> {
                    out.print(USAGE);
                    return 0;
                }
                default -> throw new UsageException("unknown argument " + args[i]);
            }
        }
        if (plain == (cert != null || key != null)) {
            throw new UsageException("serve needs --tls-cert and --tls-key, or --plain-http (not both)");
        }
        if ((cert == null) != (key == null)) throw new UsageException("--tls-cert and --tls-key go together");
        InjectionConfigSource config = source(template, values);
        WebhookServer.Options options = new WebhookServer.Options(new InetSocketAddress(address, port), cert, key,
                failClosed, threads, Duration.ofMillis((long) (reload * 1000)), 8 << 20);
        WebhookServer server = WebhookServer.start(options, config);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            stopped.countDown();
        }, "remora-injector-shutdown"));
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }

    private static InjectionConfigSource source(Path template, Path values) {
        return template == null && values == null
                ? InjectionConfigSource.bundled()
                : InjectionConfigSource.files(template, values);
    }

    /** Logs to stderr (stdout carries the YAML), set up in code: a logback.xml would reach the sidecar's class path. */
    private static void logging(Level level) {
        if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext ctx)) return;
        ctx.reset();
        PatternLayoutEncoder enc = new PatternLayoutEncoder();
        enc.setContext(ctx);
        enc.setPattern("%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level %logger{0} - %msg%n");
        enc.start();
        ConsoleAppender<ILoggingEvent> app = new ConsoleAppender<>();
        app.setContext(ctx);
        app.setTarget("System.err");
        app.setEncoder(enc);
        app.start();
        ch.qos.logback.classic.Logger root = ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.addAppender(app);
        root.setLevel(level);
    }

    private static String need(String[] args, int i) {
        if (i >= args.length) throw new UsageException(args[i - 1] + " needs a value");
        return args[i];
    }

    private static int intArg(String[] args, int i, int min, int max) {
        String v = need(args, i);
        try {
            int n = Integer.parseInt(v);
            if (n < min || n > max) throw new UsageException(args[i - 1] + ": " + min + " to " + max);
            return n;
        } catch (NumberFormatException e) {
            throw new UsageException(args[i - 1] + " takes a number, got " + v);
        }
    }

    static final class UsageException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        UsageException(String message) {
            super(message);
        }
    }
}
