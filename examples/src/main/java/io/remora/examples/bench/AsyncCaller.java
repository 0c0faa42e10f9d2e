package io.remora.examples.bench;

/** A non-blocking client to one target: {@link #call} returns at once, {@code done} runs when the reply arrived. */
interface AsyncCaller extends AutoCloseable {

    /** Sends one request; exactly one of {@code done.ok()} / {@code done.failed(e)} runs later, on any thread. */
    void call(Done done);

    /** Connections this caller had to open again (the server closed one, or sent GOAWAY). */
    default long reconnects() {
        return 0;
    }

    @Override
    void close();

    interface Done {
        void ok();

        void failed(Throwable cause);
    }
}
