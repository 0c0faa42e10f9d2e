package io.remora.core.health;

/** Consecutive-result hysteresis: down after {@code unhealthy} failures in a row, up after {@code healthy} successes. */
final class Thresholds {

    private final int healthy;
    private final int unhealthy;
    private boolean up = true;
    private int successes;
    private int failures;

    Thresholds(int healthy, int unhealthy) {
        this.healthy = Math.max(1, healthy);
        this.unhealthy = Math.max(1, unhealthy);
    }

    /** Feeds one probe result; returns true when the up/down state changed. */
    boolean record(boolean ok) {
        if (ok) {
            failures = 0;
            successes++;
            if (!up && successes >= healthy) {
                up = true;
                return true;
            }
        } else {
            successes = 0;
            failures++;
            if (up && failures >= unhealthy) {
                up = false;
                return true;
            }
        }
        return false;
    }

    boolean up() {
        return up;
    }
}
