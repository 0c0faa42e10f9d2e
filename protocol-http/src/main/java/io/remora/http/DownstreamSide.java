package io.remora.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http2.Http2Headers;
import io.remora.core.proxy.ListenerSlot;

/** Where an exchange's request came from and its response goes: an HTTP/1 connection or one HTTP/2 stream. */
interface DownstreamSide {

    /** The connection (its loop, allocator and addresses; an HTTP/2 stream's connection). */
    Channel channel();

    ListenerSlot slot();

    HttpSettings settings();

    String callerIp();

    boolean http2();

    /** Back-pressure on the request body: stop or resume reading (HTTP/2: withhold the stream's window updates). */
    void setReadable(boolean readable);

    /** Whether more response body may be written now (HTTP/2: the stream's flow-control window and the socket). */
    boolean isWritable();

    /** A response object in HTTP/1 form: head (maybe full), body chunk or end (converted on an HTTP/2 side). */
    void write(HttpObject msg);

    /** A response head or trailers in h2 form (HTTP/2 sides only: the exchange converts for HTTP/1). */
    void writeHeaders(Http2Headers headers, boolean endStream);

    /** A response body chunk from an h2 upstream; takes ownership of {@code data}. */
    void writeData(ByteBuf data, boolean endStream);

    /** The exchange is over; {@code close}: the connection (HTTP/1) or stream (HTTP/2) cannot be reused. */
    void exchangeDone(HttpExchange exchange, boolean close);
}
