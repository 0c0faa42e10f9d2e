package io.remora.examples.bench;

import java.util.concurrent.CompletableFuture;

/** The Dubbo bench service: echoes a fixed payload; asynchronous so one client thread keeps many calls in flight. */
public interface EchoService {

    CompletableFuture<byte[]> echo(byte[] payload);
}
