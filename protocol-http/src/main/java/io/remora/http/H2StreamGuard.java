package io.remora.http;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameLogger;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.handler.logging.LogLevel;

/**
 * The RFC 9113 stream-state rules for inbound HEADERS that Netty's decoder leaves loose, checked before the frame
 * reaches the connection's state machine:
 * <ul>
 *   <li>HEADERS on a half-closed (remote) stream: stream error STREAM_CLOSED (5.1; Netty answers PROTOCOL_ERROR);</li>
 *   <li>HEADERS on a stream that ended normally: connection error STREAM_CLOSED (5.1; Netty resets the stream);</li>
 *   <li>HEADERS opening a stream numbered below one already opened: connection error PROTOCOL_ERROR (5.1.1).</li>
 * </ul>
 * A connection error is raised only when the violation is certain: the id was skipped when a higher stream opened
 * (clients open their ids in order, so skipped ids are rare and few), or the stream is among the last ones that
 * closed normally. HEADERS on a stream the sidecar reset itself stay a stream-level matter (the caller may have sent
 * its trailers before it saw the reset; 5.4.2), as does anything older than what is remembered.
 *
 * <p>Installed as the connection's frame logger: that is the one hook Netty's handler builder offers that sees an
 * inbound frame before the decoder acts on it (building the codec by hand would lose Netty's control-frame and
 * RST flood limits, which are package-private). It also logs every frame at TRACE on {@code io.remora.http.frames}.
 */
final class H2StreamGuard extends Http2FrameLogger {

    /** Client streams that closed normally (END_STREAM both ways) lately, newest last. */
    private static final int REMEMBERED = 64;
    /** Ranges of client ids skipped when a higher stream opened, newest last. */
    private static final int SKIPS = 16;

    private final int[] closedIds = new int[REMEMBERED];
    private int closedCount;
    private final int[] skippedFrom = new int[SKIPS];
    private final int[] skippedTo = new int[SKIPS];
    private int skipCount;
    private int lastOpened = -1;
    private Http2Connection connection;

    H2StreamGuard() {
        super(LogLevel.TRACE, "io.remora.http.frames");
    }

    /** The connection whose streams are checked (set once the handler is built). */
    void connection(Http2Connection c) {
        this.connection = c;
    }

    /** A stream opened: ids between the last client stream and this one were skipped for good. */
    void opened(Http2Stream stream) {
        int id = stream.id();
        if (!connection.remote().isValidStreamId(id)) {
            return;
        }
        int next = lastOpened < 0 ? 1 : lastOpened + 2;
        if (id > next) {
            int i = skipCount++ % SKIPS;
            skippedFrom[i] = next;
            skippedTo[i] = id - 2;
        }
        lastOpened = Math.max(lastOpened, id);
    }

    /** A client stream closed; one this side reset is not remembered (the caller may not have seen the reset). */
    void closed(Http2Stream stream) {
        if (!connection.remote().isValidStreamId(stream.id()) || stream.isResetSent()) {
            return;
        }
        closedIds[closedCount++ % REMEMBERED] = stream.id();
    }

    @Override
    public void logHeaders(Direction direction, ChannelHandlerContext ctx, int streamId, Http2Headers headers,
                           int padding, boolean endStream) {
        if (direction == Direction.INBOUND) {
            check(streamId);
        }
        super.logHeaders(direction, ctx, streamId, headers, padding, endStream);
    }

    @Override
    public void logHeaders(Direction direction, ChannelHandlerContext ctx, int streamId, Http2Headers headers,
                           int streamDependency, short weight, boolean exclusive, int padding, boolean endStream) {
        if (direction == Direction.INBOUND) {
            check(streamId);
        }
        super.logHeaders(direction, ctx, streamId, headers, streamDependency, weight, exclusive, padding, endStream);
    }

    private void check(int streamId) {
        Http2Connection c = connection;
        if (c == null || !c.remote().isValidStreamId(streamId)) {
            return; // not a client stream id: Netty's own checks answer it
        }
        Http2Stream s = c.stream(streamId);
        if (s != null) {
            if (s.state() == Http2Stream.State.HALF_CLOSED_REMOTE && !s.isResetSent()) {
                throw sneaky(Http2Exception.streamError(streamId, Http2Error.STREAM_CLOSED,
                        "HEADERS on stream %d after its END_STREAM", streamId));
            }
            return;
        }
        if (!c.streamMayHaveExisted(streamId)) {
            return; // a new stream
        }
        for (int n = Math.min(skipCount, SKIPS), k = 0; k < n; k++) {
            if (streamId >= skippedFrom[k] && streamId <= skippedTo[k]) {
                throw sneaky(Http2Exception.connectionError(Http2Error.PROTOCOL_ERROR,
                        "HEADERS opening stream %d after stream %d: client stream ids must increase", streamId,
                        lastOpened));
            }
        }
        for (int n = Math.min(closedCount, REMEMBERED), k = 0; k < n; k++) {
            if (closedIds[k] == streamId) {
                throw sneaky(Http2Exception.connectionError(Http2Error.STREAM_CLOSED,
                        "HEADERS on closed stream %d", streamId));
            }
        }
        // older, or reset: Netty answers with a stream error
    }

    /**
     * Throws a checked {@link Http2Exception} through the logger's unchecked signature: the frame reader and the
     * connection handler then treat it exactly as one thrown by Netty's decoder (a stream error keeps the reader
     * usable; a wrapped one would not).
     */
    @SuppressWarnings("unchecked")
    private static <E extends Throwable> RuntimeException sneaky(Throwable t) throws E {
        throw (E) t;
    }
}
