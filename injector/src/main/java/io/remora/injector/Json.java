package io.remora.injector;

import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import org.yaml.snakeyaml.LoaderOptions;

/** The JSON and YAML mappers of the injector, configured once (both thread-safe). */
public final class Json {

    /** Largest YAML input accepted (a manifest file, a template): SnakeYAML's default is 3 MB. */
    static final int MAX_YAML_CODE_POINTS = 64 * 1024 * 1024;

    public static final ObjectMapper JSON = new ObjectMapper();

    /**
     * Kubernetes-style YAML out: no document start marker (the caller writes "---" between documents), quotes only
     * where needed, but always around strings that look like numbers or booleans (so "12200" stays a string), and
     * multi-line strings (a ConfigMap's remora.json) as literal blocks; long
     * lines (the status annotation's JSON) are not folded.
     */
    public static final YAMLMapper YAML = new YAMLMapper(YAMLFactory.builder()
            .loaderOptions(loaderOptions())
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(200).build())
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
            .enable(YAMLGenerator.Feature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS)
            .enable(YAMLGenerator.Feature.LITERAL_BLOCK_STYLE)
            .disable(YAMLGenerator.Feature.SPLIT_LINES)
            .build());

    private static LoaderOptions loaderOptions() {
        LoaderOptions o = new LoaderOptions();
        o.setCodePointLimit(MAX_YAML_CODE_POINTS);
        o.setAllowDuplicateKeys(false);
        return o;
    }

    private Json() {}
}
