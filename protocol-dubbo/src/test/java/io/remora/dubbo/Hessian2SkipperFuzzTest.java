package io.remora.dubbo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Random object graphs written by hessian-lite's {@code Hessian2Output} (the oracle): the skipper must land exactly on
 * the body end and read the attachments back. Mutations of those bodies must end in a clean
 * {@link HessianFormatException} or a position inside the body: never an unchecked exception (the buffers are exactly
 * body-sized, so a read past the end would throw IndexOutOfBoundsException) and never a lost frame.
 */
class Hessian2SkipperFuzzTest {

    private static final long SEED = Long.getLong("fuzz.seed", 20261121L);
    private static final int GRAPHS = Integer.getInteger("fuzz.graphs", 1500);

    private Random rnd;
    private List<Object> shared;

    @Test
    void skipperLandsOnTheEndOfRandomGraphsAndSurvivesMutations() {
        rnd = new Random(SEED);
        int mutated = 0;
        int cleanFailures = 0;
        long bytes = 0;
        for (int i = 0; i < GRAPHS; i++) {
            shared = new ArrayList<>();
            int nargs = rnd.nextInt(5);
            Object[] args = new Object[nargs];
            for (int a = 0; a < nargs; a++) {
                args[a] = value(0);
            }
            Map<String, Object> att = attachments();
            Object attObj = rnd.nextInt(5) == 0 ? new TreeMap<>(att) : new HashMap<>(att);
            byte[] body = HessianBodies.requestBytes("com.example.Svc" + i, "1.0." + i, "m" + i, args, attObj);
            bytes += body.length;
            Map<String, String> read = new LinkedHashMap<>();
            int end;
            try {
                end = DubboBody.walkRequest(Unpooled.wrappedBuffer(body), 0, body.length, read::put);
            } catch (HessianFormatException | RuntimeException e) {
                throw new AssertionError("seed " + SEED + " graph " + i + ": " + e, e);
            }
            assertEquals(body.length, end, "seed " + SEED + " graph " + i);
            assertEquals(expected(att), read, "seed " + SEED + " graph " + i);

            for (int m = 0; m < 4; m++) {
                byte[] bad = mutate(body);
                mutated++;
                if (!survives(bad, "seed " + SEED + " graph " + i + " mutation " + m)) {
                    cleanFailures++;
                }
            }
        }
        for (int i = 0; i < 2000; i++) {
            byte[] junk = new byte[rnd.nextInt(200)];
            rnd.nextBytes(junk);
            survives(junk, "seed " + SEED + " random body " + i);
            mutated++;
        }
        assertTrue(cleanFailures > 0, "mutations should break some bodies");
        assertTrue(bytes > 100_000, "graphs too small to mean anything: " + bytes);
        assertTrue(mutated >= GRAPHS * 4);
    }

    /** Returns true if the walk succeeded (inside bounds), false on a clean format error; fails on anything else. */
    private static boolean survives(byte[] body, String what) {
        ByteBuf buf = Unpooled.wrappedBuffer(body);
        try {
            int end = DubboBody.walkRequest(buf, 0, body.length, (k, v) -> { });
            assertTrue(end >= 0 && end <= body.length, what + ": position " + end);
            return true;
        } catch (HessianFormatException e) {
            assertNotNull(e.getMessage());
            return false;
        } catch (RuntimeException | StackOverflowError e) {
            throw new AssertionError(what + ": " + e, e);
        }
    }

    @Test
    void mutatedBodiesNeverLoseFraming() {
        rnd = new Random(SEED + 1);
        byte[] good = Vectors.bytes("dubbo_request_sayHello.bin");
        byte[] complex = Vectors.bytes("dubbo_request_complex.bin");
        for (int i = 0; i < 300; i++) {
            byte[] src = i % 3 == 0 ? complex : good;
            byte[] body = mutate(Arrays.copyOfRange(src, 16, src.length));
            ByteBuf b = Unpooled.buffer();
            b.writeBytes(src, 0, 12).writeInt(body.length).writeBytes(body).writeBytes(good);
            EmbeddedChannel ch = new EmbeddedChannel(Vectors.CODEC.newDecoder());
            ch.writeInbound(b);
            DubboFrame bad = ch.readInbound();
            DubboFrame next = ch.readInbound();
            try {
                assertNotNull(bad, "case " + i);
                assertNotNull(next, "case " + i);
                assertEquals(16 + body.length, bad.content().readableBytes());
                bad.service();
                bad.method();
                bad.header("group");
                bad.callerApp();
                bad.forEachHeader((k, v) -> { });
                assertEquals("g1", next.header("group"));
            } catch (RuntimeException e) {
                fail("case " + i + ": " + e, e);
            } finally {
                bad.release();
                next.release();
                ch.finishAndReleaseAll();
            }
        }
    }

    private static Map<String, String> expected(Map<String, Object> att) {
        Map<String, String> m = new LinkedHashMap<>();
        att.forEach((k, v) -> m.put(k, v == null ? null : v instanceof String || v instanceof Number
                || v instanceof Boolean ? String.valueOf(v) : null));
        return m;
    }

    private Map<String, Object> attachments() {
        Map<String, Object> m = new HashMap<>();
        int n = rnd.nextInt(8);
        for (int i = 0; i < n; i++) {
            String k = "k" + i + randomString(rnd.nextInt(4));
            Object v = switch (rnd.nextInt(7)) {
                case 0 -> null;
                case 1 -> rnd.nextInt();
                case 2 -> rnd.nextBoolean();
                case 3 -> value(2); // any value, read as null unless scalar
                case 4 -> (long) rnd.nextInt(1 << 20) * (rnd.nextBoolean() ? 1 : 1_000_000_000L);
                default -> randomString(rnd.nextInt(40));
            };
            if (v instanceof Double || v instanceof Float || v instanceof BigDecimal || v instanceof Byte
                    || v instanceof Short) {
                v = String.valueOf(v); // keep the oracle simple: those are read as null
            }
            m.put(k, v);
        }
        return m;
    }

    private Object value(int depth) {
        int kind = rnd.nextInt(depth > 3 ? 8 : 17);
        Object v = switch (kind) {
            case 0 -> switch (rnd.nextInt(4)) {
                case 0 -> rnd.nextInt(64) - 16;
                case 1 -> rnd.nextInt(4096) - 2048;
                case 2 -> rnd.nextInt(1 << 19) - (1 << 18);
                default -> rnd.nextInt();
            };
            case 1 -> switch (rnd.nextInt(4)) {
                case 0 -> (long) rnd.nextInt(24) - 8;
                case 1 -> (long) rnd.nextInt(4096) - 2048;
                case 2 -> (long) rnd.nextInt(1 << 19) - (1 << 18);
                default -> rnd.nextBoolean() ? (long) rnd.nextInt() : rnd.nextLong();
            };
            case 2 -> switch (rnd.nextInt(6)) {
                case 0 -> 0.0;
                case 1 -> 1.0;
                case 2 -> (double) (rnd.nextInt(256) - 128);
                case 3 -> (double) (rnd.nextInt(65536) - 32768);
                case 4 -> (rnd.nextInt(200000) - 100000) / 1000.0;
                default -> rnd.nextDouble() * 1e10;
            };
            case 3 -> randomString(rnd.nextInt(100) == 0 ? 30_000 + rnd.nextInt(10_000)
                    : rnd.nextInt(10) == 0 ? rnd.nextInt(2000) : rnd.nextInt(40));
            case 4 -> {
                byte[] b = new byte[rnd.nextInt(100) == 0 ? 40_000 + rnd.nextInt(30_000) : rnd.nextInt(1100)];
                rnd.nextBytes(b);
                yield b;
            }
            case 5 -> rnd.nextBoolean();
            case 6 -> null;
            case 7 -> new Date(rnd.nextBoolean() ? rnd.nextLong() >>> 20 : 60_000L * rnd.nextInt(1_000_000));
            case 8 -> FuzzClasses.Color.values()[rnd.nextInt(3)];
            case 9 -> new BigDecimal(rnd.nextInt() + "." + rnd.nextInt(1000));
            case 10 -> {
                FuzzClasses.Pojo p = new FuzzClasses.Pojo();
                p.name = randomString(rnd.nextInt(20));
                p.age = rnd.nextInt(120);
                p.big = rnd.nextLong();
                p.ratio = rnd.nextDouble();
                p.child = value(depth + 1);
                p.items = rnd.nextBoolean() ? null : new ArrayList<>(Arrays.asList(value(depth + 1), value(depth + 1)));
                p.color = FuzzClasses.Color.GREEN;
                yield p;
            }
            case 11 -> {
                Map<Object, Object> m = rnd.nextBoolean() ? new HashMap<>() : new TreeMap<>();
                int n = rnd.nextInt(5);
                for (int i = 0; i < n; i++) {
                    m.put(m instanceof TreeMap ? "k" + rnd.nextInt(100) : value(depth + 1), value(depth + 1));
                }
                yield m;
            }
            case 12 -> {
                List<Object> l = new ArrayList<>();
                int n = rnd.nextInt(12);
                for (int i = 0; i < n; i++) {
                    l.add(value(depth + 1));
                }
                yield l;
            }
            case 13 -> switch (rnd.nextInt(4)) {
                case 0 -> rnd.ints(rnd.nextInt(20)).toArray();
                case 1 -> rnd.longs(rnd.nextInt(20)).toArray();
                case 2 -> new String[] {randomString(3), null, randomString(40)};
                default -> new Object[] {value(depth + 1), value(depth + 1)};
            };
            case 14 -> {
                Object p = FuzzClasses.many(rnd.nextInt(20));
                FuzzClasses.set(p, value(depth + 1), rnd.nextInt());
                yield p;
            }
            case 15 -> {
                List<Object> l = new ArrayList<>(); // many classes in a row: beyond 16 defs hessian-lite writes 'O'
                for (int i = 0; i < 20; i++) {
                    Object p = FuzzClasses.many(i);
                    FuzzClasses.set(p, i, i);
                    l.add(p);
                }
                yield l;
            }
            default -> shared.isEmpty() ? "empty" : shared.get(rnd.nextInt(shared.size())); // back-reference 'Q'
        };
        if (v != null && !(v instanceof Number) && !(v instanceof Boolean) && !(v instanceof String)) {
            shared.add(v);
        }
        return v;
    }

    private String randomString(int len) {
        StringBuilder sb = new StringBuilder(len);
        while (sb.length() < len) {
            switch (rnd.nextInt(10)) {
                case 0 -> sb.append((char) (0x80 + rnd.nextInt(0x780)));
                case 1 -> sb.append((char) (0x4E00 + rnd.nextInt(0x5000)));
                case 2 -> sb.appendCodePoint(0x1F600 + rnd.nextInt(50));
                default -> sb.append((char) ('a' + rnd.nextInt(26)));
            }
        }
        return sb.toString();
    }

    private byte[] mutate(byte[] body) {
        byte[] b = body.clone();
        switch (rnd.nextInt(4)) {
            case 0 -> {
                int flips = 1 + rnd.nextInt(3);
                for (int i = 0; i < flips && b.length > 0; i++) {
                    b[rnd.nextInt(b.length)] = (byte) rnd.nextInt(256);
                }
            }
            case 1 -> b = Arrays.copyOf(b, b.length == 0 ? 0 : rnd.nextInt(b.length));
            case 2 -> {
                if (b.length > 0) {
                    int at = rnd.nextInt(b.length);
                    int n = Math.min(b.length - at, 1 + rnd.nextInt(16));
                    for (int i = 0; i < n; i++) {
                        b[at + i] = (byte) rnd.nextInt(256);
                    }
                }
            }
            default -> {
                // A huge length in a likely length position.
                if (b.length > 4) {
                    int at = rnd.nextInt(b.length - 4);
                    b[at] = (byte) (rnd.nextBoolean() ? 'I' : 'S');
                    b[at + 1] = (byte) 0x7F;
                    b[at + 2] = (byte) 0xFF;
                }
            }
        }
        return b;
    }
}
