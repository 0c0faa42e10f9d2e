package io.remora.core.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Reads the JSON config format (snake_case keys) into a {@link SidecarConfig}, with errors that name the field. */
public final class ConfigLoader {

    private static final ObjectMapper MAPPER = newMapper();

    private ConfigLoader() {
    }

    /** The mapper for the config format: snake_case, unknown fields rejected, nulls left out on output. */
    public static ObjectMapper mapper() {
        return MAPPER;
    }

    public static ObjectMapper newMapper() {
        ObjectMapper m = new ObjectMapper();
        m.setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);
        m.enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
        m.enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);
        m.enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
        m.enable(SerializationFeature.INDENT_OUTPUT);
        return m;
    }

    public static SidecarConfig load(Path file) throws ConfigException {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new ConfigException("", "config file " + file + " does not exist");
        } catch (IOException e) {
            throw new ConfigException("", "cannot read config file " + file + ": " + e.getMessage());
        }
        return parse(text);
    }

    public static SidecarConfig parse(String json) throws ConfigException {
        try {
            SidecarConfig c = MAPPER.readValue(json, SidecarConfig.class);
            if (c == null) {
                throw new ConfigException("", "config is empty");
            }
            return c;
        } catch (JsonMappingException e) {
            throw new ConfigException(path(e), describe(e) + location(e));
        } catch (JsonProcessingException e) {
            throw new ConfigException("", "not valid JSON" + location(e) + ": " + e.getOriginalMessage());
        }
    }

    private static String location(JsonProcessingException e) {
        return e.getLocation() == null || e.getLocation().getLineNr() < 0 ? ""
                : " (at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")";
    }

    /** {@code listeners[0].address} from Jackson's path. */
    static String path(JsonMappingException e) {
        StringBuilder sb = new StringBuilder();
        for (JsonMappingException.Reference r : e.getPath()) {
            if (r.getFieldName() != null) {
                if (!sb.isEmpty()) {
                    sb.append('.');
                }
                sb.append(r.getFieldName());
            } else if (r.getIndex() >= 0) {
                sb.append('[').append(r.getIndex()).append(']');
            }
        }
        return sb.toString();
    }

    private static String describe(JsonMappingException e) {
        if (e instanceof UnrecognizedPropertyException u) {
            return "unknown field \"" + u.getPropertyName() + "\"";
        }
        String m = e.getOriginalMessage();
        int cut = m.indexOf(" at [Source");
        return cut > 0 ? m.substring(0, cut) : m;
    }
}
