package io.remora.examples.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.HdrHistogram.Histogram;

/** results.csv (one line per run) and report.md (facts, then one table per scenario with the hop's added latency). */
final class Report {

    private Report() {
    }

    static void write(Path dir, Map<String, String> facts, List<BenchSuite.Row> rows) throws IOException {
        StringBuilder csv = new StringBuilder("protocol,payload_bytes,connections,load,target,rate_target,req_per_s,"
                + "p50_us,p90_us,p99_us,p999_us,max_us,errors,added_p50_us,added_p99_us,cpu_us_per_req,"
                + "alloc_bytes_per_req,loop_alloc_bytes_per_req,rss_mb,load_avg\n");
        StringBuilder md = new StringBuilder("# Remora benchmark report\n\n");
        for (Map.Entry<String, String> f : facts.entrySet()) {
            md.append("- ").append(f.getKey()).append(": ").append(f.getValue()).append('\n');
        }
        md.append("\nLatencies in microseconds; open-loop latency counts from each request's intended start "
                + "(coordinated-omission free). `+p50`/`+p99` = added latency against direct for the same scenario "
                + "and load. CPU = utime+stime of the proxy process per request; alloc = bytes allocated by the "
                + "sidecar's threads per request (ThreadMXBean, exact).\n");
        String lastCell = "";
        for (BenchSuite.Row r : rows) {
            Histogram h = r.out().micros();
            BenchSuite.Row d = direct(rows, r);
            long addP50 = d == null ? 0 : h.getValueAtPercentile(50) - d.out().micros().getValueAtPercentile(50);
            long addP99 = d == null ? 0 : h.getValueAtPercentile(99) - d.out().micros().getValueAtPercentile(99);
            boolean isDirect = r.target().equals("direct");
            csv.append(String.format(Locale.ROOT, "%s,%d,%d,%s,%s,%.0f,%.1f,%d,%d,%d,%d,%d,%d,%s,%s,%s,%s,%s,%s,%s%n",
                    r.protocol(), r.payload(), r.connections(), r.load(), r.target(), r.rateTarget(),
                    r.out().throughput(), h.getValueAtPercentile(50), h.getValueAtPercentile(90),
                    h.getValueAtPercentile(99), h.getValueAtPercentile(99.9), h.getMaxValue(), r.out().errors(),
                    isDirect ? "" : addP50, isDirect ? "" : addP99, num(r.cpuMicrosPerReq()),
                    num(r.allocBytesPerReq()), num(r.loopAllocBytesPerReq()),
                    r.rssKb() < 0 ? "" : BenchSuite.mb(r.rssKb()), r.loadAvg()));
            String cell = r.protocol() + " " + r.payload() + " B, " + r.connections() + " connections";
            if (!cell.equals(lastCell)) {
                md.append("\n### ").append(cell).append("\n\n| load | target | req/s | p50 | p90 | p99 | p99.9 | +p50 "
                        + "| +p99 | errors | CPU us/req | alloc B/req (loops) | RSS MB | load avg |\n"
                        + "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
                lastCell = cell;
            }
            md.append(String.format(Locale.ROOT, "| %s | %s | %.0f | %d | %d | %d | %d | %s | %s | %d | %s | %s | %s | %s |%n",
                    r.load(), r.target(), r.out().throughput(), h.getValueAtPercentile(50),
                    h.getValueAtPercentile(90), h.getValueAtPercentile(99), h.getValueAtPercentile(99.9),
                    isDirect ? "" : addP50, isDirect ? "" : addP99, r.out().errors(), num(r.cpuMicrosPerReq()),
                    r.allocBytesPerReq() < 0 ? "" : num(r.allocBytesPerReq()) + " (" + num(r.loopAllocBytesPerReq()) + ")",
                    r.rssKb() < 0 ? "" : BenchSuite.mb(r.rssKb()), r.loadAvg()));
        }
        Files.writeString(dir.resolve("results.csv"), csv);
        Files.writeString(dir.resolve("report.md"), md);
    }

    private static BenchSuite.Row direct(List<BenchSuite.Row> rows, BenchSuite.Row r) {
        for (BenchSuite.Row x : rows) {
            if (x.target().equals("direct") && x.protocol().equals(r.protocol()) && x.payload() == r.payload()
                    && x.connections() == r.connections() && x.load().equals(r.load())) {
                return x;
            }
        }
        return null;
    }

    private static String num(double v) {
        return v < 0 ? "" : String.format(Locale.ROOT, "%.1f", v);
    }
}
