package io.remora.core.config;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owns the current {@link ConfigSnapshot}. Every source (file, admin API, xDS) calls {@link #apply}; a config is
 * compiled, handed to the appliers (which bind new listener sockets and may refuse it), and only then published with
 * one atomic swap. A refused config leaves the running snapshot untouched.
 */
public final class ConfigManager {

    private static final Logger log = LoggerFactory.getLogger(ConfigManager.class);

    /** Something that acts on a new snapshot before it is published (the listener manager). */
    public interface Applier {
        /** Prepare for {@code next}; throw to refuse it. Must undo its own partial work before throwing. */
        void apply(ConfigSnapshot previous, ConfigSnapshot next) throws ConfigException;
    }

    /**
     * Checks a plugin-owned part of a config (e.g. {@code extensions.governance}) before it is compiled, so a bad
     * section refuses the whole config before any applier has acted on it.
     */
    public interface Validator {
        /** Throw with the field's full path (e.g. {@code extensions.governance.rate_limit[2].threshold}) to refuse. */
        void validate(SidecarConfig config) throws ConfigException;
    }

    private final ConfigCompiler compiler;
    private final AtomicReference<ConfigSnapshot> current = new AtomicReference<>();
    private final List<Applier> appliers = new CopyOnWriteArrayList<>();
    private final List<Consumer<ConfigSnapshot>> subscribers = new CopyOnWriteArrayList<>();
    private final List<Validator> validators = new CopyOnWriteArrayList<>();
    private long version;

    public ConfigManager(ConfigCompiler compiler) {
        this.compiler = compiler;
    }

    public void addApplier(Applier applier) {
        appliers.add(applier);
    }

    /** {@code validator} runs on every config given to {@link #apply} and {@link #validate}, before compiling. */
    public void addValidator(Validator validator) {
        validators.add(validator);
    }

    /** {@code subscriber} is called (on the applying thread) after each snapshot is published. */
    public void subscribe(Consumer<ConfigSnapshot> subscriber) {
        subscribers.add(subscriber);
    }

    /** The running snapshot, or null before the first apply. */
    public ConfigSnapshot current() {
        return current.get();
    }

    /** Compiles and publishes {@code config}. Serialized: one apply at a time. */
    public synchronized ConfigSnapshot apply(SidecarConfig config, String sourceName) throws ConfigException {
        ConfigSnapshot previous = current.get();
        for (Validator v : validators) {
            v.validate(config);
        }
        ConfigSnapshot next = compiler.compile(config, version + 1, sourceName);
        for (Applier a : appliers) {
            a.apply(previous, next);
        }
        version++;
        current.set(next);
        log.info("config version {} from {} applied: {} listener(s), {} cluster(s)", next.version(), sourceName,
                next.listeners().size(), next.clusters().size());
        for (Consumer<ConfigSnapshot> s : subscribers) {
            try {
                s.accept(next);
            } catch (RuntimeException e) {
                log.error("config subscriber failed on version {}", next.version(), e);
            }
        }
        return next;
    }

    /** Validates {@code config} without applying it. */
    public void validate(SidecarConfig config) throws ConfigException {
        for (Validator v : validators) {
            v.validate(config);
        }
        compiler.compile(config, version + 1, "validation");
    }
}
