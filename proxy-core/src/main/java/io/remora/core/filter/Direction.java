package io.remora.core.filter;

/** Which side of the call a listener (and so a rule) is on. */
public enum Direction {
    /** Client side: the local app calls out through this listener (e.g. 127.0.0.1:12200 in front of remote providers). */
    OUTBOUND,
    /** Server side: remote callers reach the local app through this listener. */
    INBOUND
}
