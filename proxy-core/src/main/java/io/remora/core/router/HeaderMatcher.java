package io.remora.core.router;

import io.remora.core.protocol.RequestHeaders;
import java.util.regex.Pattern;

/** One compiled header condition of a route. */
final class HeaderMatcher {

    private final String name;
    private final String exact;
    private final Pattern regex;
    private final Boolean present;

    HeaderMatcher(String name, String exact, Pattern regex, Boolean present) {
        this.name = name;
        this.exact = exact;
        this.regex = regex;
        this.present = present;
    }

    boolean matches(RequestHeaders request) {
        String v = request.header(name);
        if (present != null) {
            return (v != null) == present;
        }
        if (v == null) {
            return false;
        }
        if (exact != null) {
            return exact.equals(v);
        }
        return regex.matcher(v).matches();
    }
}
