package io.remora.bench;

import io.netty.util.concurrent.EventExecutor;
import io.remora.core.filter.Direction;
import io.remora.core.filter.RequestContext;
import io.remora.core.filter.StreamFilter;
import io.remora.core.protocol.ProxyError;
import io.remora.core.protocol.RequestHeaders;

/** The least a host selector needs of a request (the engine passes its RpcStream). */
record BenchContext(RequestHeaders request) implements RequestContext {

    @Override
    public String listenerName() {
        return "bench";
    }

    @Override
    public Direction direction() {
        return Direction.OUTBOUND;
    }

    @Override
    public String callerIp() {
        return "127.0.0.1";
    }

    @Override
    public String localApp() {
        return null;
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
    }

    @Override
    public void respondError(ProxyError error, String message, int nativeStatus) {
    }

    @Override
    public void resume() {
    }

    @Override
    public EventExecutor executor() {
        return null;
    }

    @Override
    public Object filterState(StreamFilter filter) {
        return null;
    }

    @Override
    public void setFilterState(StreamFilter filter, Object state) {
    }
}
