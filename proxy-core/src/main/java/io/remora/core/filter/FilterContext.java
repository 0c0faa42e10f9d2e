package io.remora.core.filter;

import io.remora.core.SidecarContext;

/** What a filter factory knows about where its filter runs. */
public record FilterContext(String listenerName, Direction direction, String protocol, SidecarContext sidecar) {
}
