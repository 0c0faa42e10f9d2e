package io.remora.dubbo;

import io.netty.buffer.ByteBuf;

/** Walks of whole Dubbo Hessian2 bodies (protocols.md §2.2, §2.3) built on {@link Hessian2Cursor}. */
final class DubboBody {

    private DubboBody() {
    }

    /** The four leading request fields: dubbo version, service path, service version, method. */
    record Leading(String dubboVersion, String path, String version, String method, int argsOffset) {
    }

    static Leading readLeading(ByteBuf buf, int start, int end) throws HessianFormatException {
        Hessian2Cursor c = new Hessian2Cursor(buf, start, end);
        String dubbo = c.readString();
        String path = c.readString();
        String version = c.readString();
        String method = c.readString();
        return new Leading(dubbo, path, version, method, c.position());
    }

    /**
     * From the first field after the method name: reads the parameter descriptor, skips every argument and reads the
     * attachments into {@code visitor}. Returns the position after the attachments (the body end for a well-formed body).
     * Class definitions made by the four leading strings are impossible (they are strings), so starting mid-body is safe.
     */
    static int readAttachments(ByteBuf buf, int argsOffset, int end, Hessian2Cursor.EntryVisitor visitor)
            throws HessianFormatException {
        Hessian2Cursor c = new Hessian2Cursor(buf, argsOffset, end);
        int descAt = c.position();
        String desc = c.readString();
        int args;
        try {
            args = Hessian2Cursor.countArguments(desc == null ? "" : desc);
        } catch (HessianFormatException e) {
            // every other body problem names its offset; the limits.log line and the NO_ROUTE text carry it
            throw new HessianFormatException(e.getMessage() + " at body offset " + descAt);
        }
        for (int i = 0; i < args; i++) {
            c.skipValue();
        }
        if (c.atEnd()) {
            return c.position(); // very old clients may omit the map
        }
        c.readStringMap(visitor);
        return c.position();
    }

    /** Walks a request body completely; returns where the walk ended. */
    static int walkRequest(ByteBuf buf, int start, int end, Hessian2Cursor.EntryVisitor visitor)
            throws HessianFormatException {
        Leading l = readLeading(buf, start, end);
        return readAttachments(buf, l.argsOffset(), end, visitor);
    }

    /** Walks an OK (status 20) response body completely; returns where the walk ended. */
    static int walkOkResponse(ByteBuf buf, int start, int end, Hessian2Cursor.EntryVisitor visitor)
            throws HessianFormatException {
        Hessian2Cursor c = new Hessian2Cursor(buf, start, end);
        int flag = c.readInt();
        switch (flag) {
            case 0, 1 -> c.skipValue();
            case 2 -> { }
            case 3, 4 -> {
                c.skipValue();
                c.readStringMap(visitor);
            }
            case 5 -> c.readStringMap(visitor);
            default -> throw c.fail("unknown response flag " + flag);
        }
        return c.position();
    }
}
