package io.remora.core.protocol;

import java.util.Map;
import java.util.Objects;

/**
 * Limits and switches a codec is built with. {@code maxFrameBytes} is checked against the declared length of every
 * frame before anything is allocated for it. {@code extra} carries protocol-specific settings from config verbatim.
 */
public record ProtocolOptions(int maxFrameBytes, Map<String, String> extra) {

    public static final int DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;

    public static final ProtocolOptions DEFAULTS = new ProtocolOptions(DEFAULT_MAX_FRAME_BYTES, Map.of());

    public ProtocolOptions {
        if (maxFrameBytes <= 0) {
            throw new IllegalArgumentException("maxFrameBytes must be > 0: " + maxFrameBytes);
        }
        extra = Map.copyOf(Objects.requireNonNull(extra, "extra"));
    }

    public String extra(String key, String defaultValue) {
        return extra.getOrDefault(key, defaultValue);
    }
}
