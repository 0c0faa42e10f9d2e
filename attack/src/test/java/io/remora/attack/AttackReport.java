package io.remora.attack;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The figures of every attack of this run, written to {@code attack/target/attack-report.md} (rewritten after each
 * attack, so a failed run still leaves what it measured) and printed.
 */
final class AttackReport {

    /** One attack's figures. */
    record Row(String sidecar, String attack, long millis, String attackerGot, HealthyClients.Window healthy,
               double rssBeforeMb, double rssAfterMb, double heapAfterMb, String log, boolean passed) {
    }

    private static final List<Row> ROWS = new ArrayList<>();
    private static final List<String> NOTES = new ArrayList<>();
    private static final long START = System.nanoTime();

    private AttackReport() {
    }

    static synchronized void add(Row r) {
        ROWS.add(r);
        write();
    }

    static synchronized void note(String n) {
        NOTES.add(n);
        write();
    }

    static synchronized String markdown() {
        StringBuilder b = new StringBuilder();
        b.append("# Attack suite report\n\n");
        b.append("Run ").append(LocalDateTime.now().format(DateTimeFormatter.ISO_LOCAL_DATE_TIME.withLocale(Locale.ROOT)))
                .append(", ").append(ROWS.size()).append(" attacks, ")
                .append(String.format(Locale.ROOT, "%.0f s", (System.nanoTime() - START) / 1e9))
                .append(" since the first sidecar start. Healthy calls are ok/overload-error/failed per protocol "
                        + "(SOFARPC, Dubbo, HTTP/1.1), made through the same sidecar while the attack ran. RSS is "
                        + "the sidecar's VmRSS; heap is jvm_memory_used_bytes after a full GC (jcmd GC.run).\n\n");
        b.append("| sidecar | attack | ms | what the attacker got | healthy calls bolt / dubbo / http (ok/overload/failed) "
                + "| RSS before → after MB | heap after MB | log line | result |\n");
        b.append("|---|---|---:|---|---|---|---:|---|---|\n");
        for (Row r : ROWS) {
            HealthyClients.Window w = r.healthy();
            b.append("| ").append(r.sidecar()).append(" | ").append(r.attack()).append(" | ").append(r.millis())
                    .append(" | ").append(cell(r.attackerGot())).append(" | ")
                    .append(w == null ? "-" : w.describe()).append(" | ")
                    .append(String.format(Locale.ROOT, "%.1f → %.1f", r.rssBeforeMb(), r.rssAfterMb())).append(" | ")
                    .append(String.format(Locale.ROOT, "%.1f", r.heapAfterMb())).append(" | ")
                    .append(cell(r.log())).append(" | ").append(r.passed() ? "pass" : "**FAIL**").append(" |\n");
        }
        if (!NOTES.isEmpty()) {
            b.append("\n");
            for (String n : NOTES) {
                b.append("- ").append(n).append("\n");
            }
        }
        return b.toString();
    }

    private static String cell(String s) {
        return s == null ? "" : s.replace("|", "\\|").replace("\n", " ");
    }

    private static void write() {
        String md = markdown();
        try {
            Path p = Path.of(System.getProperty("attack.report", "target/attack-report.md"));
            Files.createDirectories(p.toAbsolutePath().getParent());
            Files.writeString(p, md);
        } catch (IOException e) {
            System.err.println("cannot write the attack report: " + e);
        }
    }

    static void print() {
        System.out.println(markdown());
    }
}
