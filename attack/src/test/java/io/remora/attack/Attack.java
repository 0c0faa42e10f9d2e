package io.remora.attack;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;

/**
 * One attack against a {@link Rig}'s sidecar and what must hold while it runs and after: the healthy clients see no
 * failure (nor an overload error, unless allowed) and each made calls during the attack; the sidecar is alive; its
 * RSS after the attack and its heap after a full GC stay under their bounds; the reason is logged (in limits.log or
 * default.log) at least once and at most a few times, without a stack trace; Netty reports no leak. The figures go to
 * the {@link AttackReport} whether the attack passed or not.
 */
final class Attack {

    private static final Pattern STACK = Pattern.compile("^\\s+at [\\w.$]+\\(|^Caused by: |^\\s+\\.\\.\\. \\d+ more");

    private final Rig rig;
    private final String name;
    private String logFile;
    private Pattern logPattern;
    private int maxLogLines = 3;
    private String logGap;
    private String unthrottled;
    private String noLogReason;
    private boolean allowOverload;
    private double maxRssMb = 400;
    private double maxHeapMb = 160;
    private int minHealthyCalls = 3;
    private String defaultLogLevel;

    Attack(Rig rig, String name) {
        this.rig = rig;
        this.name = name;
    }

    /** The reason must appear in {@code file} (1 to {@code maxLines} lines matching {@code regex}). */
    Attack expectLog(String file, String regex, int maxLines) {
        this.logFile = file;
        this.logPattern = Pattern.compile(regex);
        this.maxLogLines = maxLines;
        return this;
    }

    Attack expectLog(String file, String regex) {
        return expectLog(file, regex, 3);
    }

    /** More than the expected lines are a known gap ({@code what}), reported, not failed. */
    Attack unthrottled(String what) {
        this.unthrottled = what;
        return this;
    }

    /** default.log runs at {@code level} during the attack (the admin API; back to ERROR after). */
    Attack defaultLogAt(String level) {
        this.defaultLogLevel = level;
        return this;
    }

    /** The sidecar does not log this yet: reported, not failed. */
    Attack logGap(String what) {
        this.logGap = what;
        return this;
    }

    /** No line is expected, for this reason (reported). */
    Attack noLogExpected(String why) {
        this.noLogReason = why;
        return this;
    }

    Attack allowOverload() {
        this.allowOverload = true;
        return this;
    }

    Attack maxRssMb(double mb) {
        this.maxRssMb = mb;
        return this;
    }

    /** Runs {@code body} (returns what the attacker got) and checks everything; fails with every violation. */
    void run(Callable<String> body) throws Exception {
        RemoraProcess r = rig.remora;
        r.newLines("limits.log");
        r.newLines("default.log");
        if (defaultLogLevel != null) {
            rig.logLevel("", defaultLogLevel);
        }
        double rssBefore = r.rssMb();
        long[][] mark = rig.healthy.mark();
        long t0 = System.nanoTime();
        String got;
        Throwable error = null;
        try {
            got = body.call();
        } catch (Throwable t) {
            got = "attack threw " + t;
            error = t;
        }
        long millis = (System.nanoTime() - t0) / 1_000_000;
        HealthyClients.Window w = rig.healthy.since(mark);
        rig.healthy.clearFailures();
        if (defaultLogLevel != null) {
            rig.logLevel("", "ERROR");
        }
        List<String> problems = new ArrayList<>();
        if (error != null) {
            problems.add("the attack itself failed: " + error);
        }
        double rssAfter = 0;
        double heap = 0;
        if (!r.alive()) {
            problems.add("the sidecar died:\n" + r.output());
        } else {
            r.gc();
            Thread.sleep(300); // healthy traffic allocates meanwhile: the leak detector reports what the GC found
            heap = r.heapUsedMb();
            rssAfter = r.rssMb();
        }
        List<String> lines = new ArrayList<>(r.newLines("limits.log"));
        lines.addAll(r.newLines("default.log"));
        List<String> matching = new ArrayList<>();
        for (String l : lines) {
            if (STACK.matcher(l).find()) {
                problems.add("stack trace in the logs: " + l);
                break;
            }
        }
        String logCell;
        if (logPattern != null) {
            for (String l : lines) {
                if (logPattern.matcher(l).find()) {
                    matching.add(l);
                }
            }
            logCell = logFile + " ×" + matching.size() + (matching.isEmpty() ? ""
                    : ": " + clip(matching.get(0).replaceFirst("^\\S+ \\S+ \\S+ +\\[[^]]*] \\S+ - ", ""), 160));
            if (matching.isEmpty()) {
                problems.add("no line matching /" + logPattern + "/ in " + logFile + "; new lines: " + lines);
            } else if (matching.size() > maxLogLines && unthrottled != null) {
                logCell = "GAP: " + matching.size() + " lines, one per connection (" + unthrottled + "); " + logCell;
            } else if (matching.size() > maxLogLines) {
                problems.add(matching.size() + " lines matching /" + logPattern + "/ (at most " + maxLogLines
                        + " expected): not rate-limited");
            }
        } else if (logGap != null) {
            logCell = "GAP: " + logGap;
        } else {
            logCell = "none expected: " + noLogReason;
        }
        if (w.failed() > 0) {
            problems.add(w.failed() + " healthy calls failed: " + w.failures());
        }
        if (!allowOverload && w.overload() > 0) {
            problems.add(w.overload() + " healthy calls got the overload error");
        }
        for (long[] c : List.of(w.bolt(), w.dubbo(), w.http())) {
            if (c[0] + c[1] + c[2] < minHealthyCalls) {
                problems.add("a healthy client made fewer than " + minHealthyCalls + " calls during the attack: "
                        + w.describe());
                break;
            }
        }
        if (rssAfter > maxRssMb) {
            problems.add(String.format(Locale.ROOT, "RSS %.1f MB after the attack, above %.0f MB", rssAfter,
                    maxRssMb));
        }
        if (heap > maxHeapMb) {
            problems.add(String.format(Locale.ROOT, "heap %.1f MB after GC, above %.0f MB", heap, maxHeapMb));
        }
        List<String> leaks = r.leaks();
        if (!leaks.isEmpty()) {
            problems.add("Netty leak reports: " + leaks);
        }
        AttackReport.add(new AttackReport.Row(rig.name, name, millis, got, w, rssBefore, rssAfter, heap, logCell,
                problems.isEmpty()));
        if (!problems.isEmpty()) {
            throw new AssertionError(name + ":\n - " + String.join("\n - ", problems), error);
        }
    }

    private static String clip(String s, int n) {
        return s.length() <= n ? s : s.substring(0, n) + "…";
    }
}
