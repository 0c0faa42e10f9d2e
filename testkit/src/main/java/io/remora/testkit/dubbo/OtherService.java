package io.remora.testkit.dubbo;

/** A second interface, for routes that point nowhere or at a dead provider. */
public interface OtherService {

    String ping(String s);
}
