package io.remora.examples.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class HelloHttpProviderTest {

    @Test
    void readsUrlEncodedQueryParameter() {
        assertEquals("a b", HelloHttpProvider.queryParam("x=1&name=a%20b", "name", "world"));
        assertEquals("world", HelloHttpProvider.queryParam("x=1", "name", "world"));
        assertEquals("world", HelloHttpProvider.queryParam(null, "name", "world"));
        assertEquals("", HelloHttpProvider.queryParam("name", "name", "world"));
    }
}
