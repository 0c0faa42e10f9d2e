package io.remora.core.config;

/**
 * Invalid configuration. {@link #path()} names the field (e.g. {@code listeners[0].address}) and the message says what
 * is wrong with its value. A config that raises this is rejected whole; the running config stays.
 */
public final class ConfigException extends Exception {

    private final String path;
    private final String problem;

    public ConfigException(String path, String problem) {
        super(path.isEmpty() ? problem : path + ": " + problem);
        this.path = path;
        this.problem = problem;
    }

    public String path() {
        return path;
    }

    public String problem() {
        return problem;
    }

    /** The same problem, located under {@code prefix} (e.g. a filter's path under its listener). */
    public ConfigException under(String prefix) {
        if (prefix.isEmpty()) {
            return this;
        }
        String p = path.isEmpty() ? prefix : (path.startsWith("[") ? prefix + path : prefix + "." + path);
        ConfigException e = new ConfigException(p, problem);
        e.setStackTrace(getStackTrace());
        return e;
    }
}
