package io.remora.dubbo;

import java.io.Serializable;

/** Tiny classes for the fuzzer: more than 16 class definitions in one stream make hessian-lite write 'O' instances. */
final class FuzzClasses {

    private FuzzClasses() {
    }

    enum Color { RED, GREEN, BLUE }

    static final class Pojo implements Serializable {
        private static final long serialVersionUID = 1L;
        String name;
        int age;
        long big;
        double ratio;
        Object child;
        java.util.List<Object> items;
        Color color;
    }

    static final class P0 implements Serializable {
        private static final long serialVersionUID = 1L;
        Object v;
        int n;
    }

    static final class P1 implements Serializable {
        private static final long serialVersionUID = 1L;
        Object v;
        int n;
    }

    static final class P2 implements Serializable {
        private static final long serialVersionUID = 1L;
        Object v;
        int n;
    }

    static final class P3 implements Serializable {
        private static final long serialVersionUID = 1L;
        Object v;
        int n;
    }

    static final class P4 implements Serializable {
        private static final long serialVersionUID = 1L;
        Object v;
        int n;
    }

    static final class P5 implements Serializable {
        private static final long serialVersionUID = 1L;
        Object v;
        int n;
    }

    static final class P6 implements Serializable {
        private static final long serialVersionUID = 1L;
        Object v;
        int n;
    }

    static final class P7 implements Serializable {
        private static final long serialVersionUID = 1L;
        Object v;
        int n;
    }

    static final class P8 implements Serializable {
        private static final long serialVersionUID = 1L;
        Object v;
        int n;
    }

    static final class P9 implements Serializable {
        private static final long serialVersionUID = 1L;
        Object v;
        int n;
    }

    static final class P10 implements Serializable {
        private static final long serialVersionUID = 1L;
        Object v;
        int n;
    }

    static final class P11 implements Serializable {
        private static final long serialVersionUID = 1L;
        Object v;
        int n;
    }

    static final class P12 implements Serializable {
        private static final long serialVersionUID = 1L;
        Object v;
        int n;
    }

    static final class P13 implements Serializable {
        private static final long serialVersionUID = 1L;
        Object v;
        int n;
    }

    static final class P14 implements Serializable {
        private static final long serialVersionUID = 1L;
        Object v;
        int n;
    }

    static final class P15 implements Serializable {
        private static final long serialVersionUID = 1L;
        Object v;
        int n;
    }

    static final class P16 implements Serializable {
        private static final long serialVersionUID = 1L;
        Object v;
        int n;
    }

    static final class P17 implements Serializable {
        private static final long serialVersionUID = 1L;
        Object v;
        int n;
    }

    static final class P18 implements Serializable {
        private static final long serialVersionUID = 1L;
        Object v;
        int n;
    }

    static final class P19 implements Serializable {
        private static final long serialVersionUID = 1L;
        Object v;
        int n;
    }

    static Object many(int i) {
        return switch (i % 20) {
            case 0 -> new P0();
            case 1 -> new P1();
            case 2 -> new P2();
            case 3 -> new P3();
            case 4 -> new P4();
            case 5 -> new P5();
            case 6 -> new P6();
            case 7 -> new P7();
            case 8 -> new P8();
            case 9 -> new P9();
            case 10 -> new P10();
            case 11 -> new P11();
            case 12 -> new P12();
            case 13 -> new P13();
            case 14 -> new P14();
            case 15 -> new P15();
            case 16 -> new P16();
            case 17 -> new P17();
            case 18 -> new P18();
            default -> new P19();
        };
    }

    static void set(Object p, Object v, int n) {
        try {
            p.getClass().getDeclaredField("v").set(p, v);
            p.getClass().getDeclaredField("n").setInt(p, n);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }
}
