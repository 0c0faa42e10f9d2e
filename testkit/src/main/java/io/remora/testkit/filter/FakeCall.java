package io.remora.testkit.filter;

import io.netty.util.concurrent.EventExecutor;
import io.remora.core.filter.Direction;
import io.remora.core.filter.FilterStatus;
import io.remora.core.filter.RequestContext;
import io.remora.core.filter.StreamFilter;
import io.remora.core.protocol.ProxyError;
import io.remora.core.protocol.RequestHeaders;
import io.remora.core.protocol.ResponseClass;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.function.BiConsumer;

/** A request as a filter sees it, without a socket: records how it was answered. */
public class FakeCall implements RequestContext, RequestHeaders {

    private String protocol = "bolt";
    private String service = "com.example.HelloService:1.0";
    private String method = "sayHello";
    private final Map<String, String> headers = new HashMap<>();
    private String callerApp;
    private String targetApp;
    private String callerIp = "10.0.0.1";
    private String localApp;
    private Direction direction = Direction.OUTBOUND;
    private EventExecutor executor;
    private final Map<StreamFilter, Object> states = new IdentityHashMap<>();

    public ProxyError error;
    public String errorMessage;
    public int nativeStatus = -1;
    public int resumed;

    public static FakeCall to(String service, String method) {
        FakeCall c = new FakeCall();
        c.service = service;
        c.method = method;
        return c;
    }

    public FakeCall protocol(String p) {
        this.protocol = p;
        return this;
    }

    public FakeCall header(String name, String value) {
        headers.put(name, value);
        return this;
    }

    public FakeCall callerApp(String app) {
        this.callerApp = app;
        return this;
    }

    public FakeCall targetApp(String app) {
        this.targetApp = app;
        return this;
    }

    public FakeCall callerIp(String ip) {
        this.callerIp = ip;
        return this;
    }

    public FakeCall localApp(String app) {
        this.localApp = app;
        return this;
    }

    public FakeCall direction(Direction d) {
        this.direction = d;
        return this;
    }

    public FakeCall executor(EventExecutor e) {
        this.executor = e;
        return this;
    }

    /** Runs {@code filter} on this call; on CONTINUE completes it with {@code result}. */
    public FilterStatus through(StreamFilter filter, ResponseClass result, long durationNanos) {
        FilterStatus s = filter.onRequest(this);
        if (s == FilterStatus.CONTINUE) {
            filter.onComplete(this, result, durationNanos);
        }
        return s;
    }

    // RequestHeaders
    @Override
    public String protocol() {
        return protocol;
    }

    @Override
    public String service() {
        return service;
    }

    @Override
    public String method() {
        return method;
    }

    @Override
    public String header(String name) {
        return headers.get(name);
    }

    @Override
    public void forEachHeader(BiConsumer<String, String> visitor) {
        headers.forEach(visitor);
    }

    @Override
    public String callerApp() {
        return callerApp;
    }

    @Override
    public String targetApp() {
        return targetApp;
    }

    // RequestContext
    @Override
    public RequestHeaders request() {
        return this;
    }

    @Override
    public String listenerName() {
        return "test";
    }

    @Override
    public Direction direction() {
        return direction;
    }

    @Override
    public String callerIp() {
        return callerIp;
    }

    @Override
    public String localApp() {
        return localApp;
    }

    @Override
    public boolean oneway() {
        return false;
    }

    @Override
    public long startNanos() {
        return 0;
    }

    @Override
    public void respondError(ProxyError error, String message) {
        this.error = error;
        this.errorMessage = message;
    }

    @Override
    public void respondError(ProxyError error, String message, int nativeStatus) {
        respondError(error, message);
        this.nativeStatus = nativeStatus;
    }

    @Override
    public void resume() {
        resumed++;
    }

    @Override
    public EventExecutor executor() {
        return executor;
    }

    @Override
    public Object filterState(StreamFilter filter) {
        return states.get(filter);
    }

    @Override
    public void setFilterState(StreamFilter filter, Object state) {
        states.put(filter, state);
    }
}
