package io.remora.core.http;

import io.netty.channel.Channel;
import io.remora.core.proxy.ListenerSlot;

/** Where an exchange's request came from and its response goes: an HTTP/1 connection or one HTTP/2 stream. */
interface DownstreamSide {

    /** The channel responses are written to (the connection, or the HTTP/2 stream's child channel). */
    Channel channel();

    ListenerSlot slot();

    HttpSettings settings();

    String callerIp();

    boolean http2();

    /** Back-pressure on the request body: stop or resume reading from the caller. */
    void setReadable(boolean readable);

    /** The exchange is over; {@code close}: the connection (HTTP/1) or stream (HTTP/2) cannot be reused. */
    void exchangeDone(HttpExchange exchange, boolean close);
}
