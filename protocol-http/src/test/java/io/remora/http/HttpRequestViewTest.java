package io.remora.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import org.junit.jupiter.api.Test;

class HttpRequestViewTest {

    private static String service(String host) {
        HttpRequest r = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/a?b");
        if (host != null) {
            r.headers().set("Host", host);
        }
        return new HttpRequestView(r, "http1", "x-request-id").service();
    }

    @Test
    void serviceIsTheLowerCaseHostWithoutPortWhateverCameBefore() {
        for (int i = 0; i < 3; i++) {
            assertEquals("api.example", service("API.Example:8080"));
            assertEquals("api.example", service("API.Example:8080"));
            assertEquals("[::1]", service("[::1]:80"));
            assertEquals("other", service("other"));
            assertNull(service(null));
        }
    }
}
