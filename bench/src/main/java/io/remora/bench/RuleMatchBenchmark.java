package io.remora.bench;

import io.remora.filters.condition.Condition;
import io.remora.filters.condition.ConditionSet;
import io.remora.filters.condition.Field;
import io.remora.filters.condition.Operator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/** Governance rule conditions (rate limit, circuit break, fault inject, auth): equals / in / regex on fields and headers. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class RuleMatchBenchmark {

    private ConditionSet typical;
    private ConditionSet withRegex;
    private BenchContext ctx;

    @Setup
    public void setUp() {
        typical = ConditionSet.of(List.of(
                Condition.onField(Field.SERVICE, Operator.EQUALS, "com.example.Service7:1.0", null, null),
                Condition.onField(Field.METHOD, Operator.IN, null, Set.of("sayHello", "sayBye", "ping"), null),
                Condition.onHeader("zone", Operator.EQUALS, "z1", null, null)));
        withRegex = ConditionSet.of(List.of(
                Condition.onField(Field.SERVICE, Operator.REGEX, null, null, Pattern.compile("com\\.example\\..*:1\\.0")),
                Condition.onHeader("zone", Operator.NOT_IN, null, Set.of("z7", "z8"), null)));
        ctx = new BenchContext(new Fixtures.Request("com.example.Service7:1.0", "sayHello"));
    }

    @Benchmark
    public boolean equalsInHeader() {
        return typical.matches(ctx);
    }

    @Benchmark
    public boolean regexAndNotIn() {
        return withRegex.matches(ctx);
    }
}
