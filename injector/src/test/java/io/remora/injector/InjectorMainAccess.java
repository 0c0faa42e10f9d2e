package io.remora.injector;

import java.io.InputStream;
import java.io.PrintStream;

/** {@link InjectorMain#run} for tests in other packages: the CLI with its streams, without System.exit. */
public final class InjectorMainAccess {
    private InjectorMainAccess() {}

    public static int run(String[] args, PrintStream out, PrintStream err, InputStream in) {
        return InjectorMain.run(args, out, err, in);
    }
}
