package io.remora.dubbo;

import static io.remora.dubbo.DubboWire.HEADER_LENGTH;

import io.netty.buffer.ByteBuf;
import io.netty.util.Recycler;
import io.remora.core.protocol.FrameKind;
import io.remora.core.protocol.PooledFrame;
import io.remora.core.protocol.ResponseClass;
import io.remora.core.protocol.RpcFrame;
import io.remora.core.protocol.Utf8Cache;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Dubbo frame: the header fields, and a retained slice of the whole frame (index 0 = magic) that is forwarded as
 * as is. Frame objects are pooled per thread: the frame has its own reference count and holds one reference to the
 * slice; the last release releases the slice and returns the object (unless {@link #keepObject()}). Requests parse their four leading strings on first access and their
 * attachments only when a header other than {@code dubbo}/{@code version} is asked for; arguments are skipped, never
 * deserialized. A body that cannot be parsed never breaks framing: lookups then answer null (see README).
 */
final class DubboFrame extends PooledFrame {

    private static final Logger log = LoggerFactory.getLogger(DubboFrame.class);
    private static final String[] NO_ATTACHMENTS = new String[0];

    private static final Recycler<DubboFrame> POOL = new Recycler<>() {
        @Override
        protected DubboFrame newObject(Handle<DubboFrame> handle) {
            return new DubboFrame(handle);
        }
    };

    private final Recycler.Handle<DubboFrame> handle;
    private FrameKind kind;
    private int flag;
    private int status;
    private long id;

    /** 0 = not parsed, 1 = parsed, 2 = failed or not Hessian2. */
    private byte leadingState;
    private String dubboVersion;
    private String path;
    private String version;
    private String method;
    private int argsOffset;
    /** Key/value pairs, null until parsed. */
    private String[] attachments;
    private int attachmentCount;
    private String parseProblem;
    /** The connection's cache for the leading strings (set by the decoder; null = no caching). */
    Utf8Cache strings;

    private DubboFrame(Recycler.Handle<DubboFrame> handle) {
        this.handle = handle;
    }

    /** A frame over {@code buf} (the caller's reference moves to the frame), from the pool. */
    static DubboFrame of(ByteBuf buf, FrameKind kind, int flag, int status, long id) {
        DubboFrame f = POOL.get();
        f.open(buf);
        f.kind = kind;
        f.flag = flag;
        f.status = status;
        f.id = id;
        f.leadingState = 0;
        f.dubboVersion = null;
        f.path = null;
        f.version = null;
        f.method = null;
        f.argsOffset = 0;
        f.attachments = null;
        f.attachmentCount = 0;
        f.parseProblem = null;
        f.strings = null;
        return f;
    }

    int flag() {
        return flag;
    }

    int serializationId() {
        return flag & DubboWire.SERIALIZATION_MASK;
    }

    boolean isRequest() {
        return (flag & DubboWire.FLAG_REQUEST) != 0;
    }

    /** Why the body could not be read (non-Hessian2 serialization, malformed body), or null. */
    String parseProblem() {
        return parseProblem;
    }

    // ---- RpcFrame

    @Override
    public FrameKind kind() {
        return kind;
    }

    @Override
    public long requestId() {
        return id;
    }

    /** Always -1: the {@code timeout} attachment is not read (it would cost a skip of every argument per request). */
    @Override
    public int timeoutMillis() {
        return -1;
    }

    @Override
    public ResponseClass responseClass() {
        if (isRequest()) {
            return ResponseClass.OK;
        }
        if (status == DubboWire.OK) {
            if ((flag & DubboWire.FLAG_EVENT) == 0 && length > HEADER_LENGTH) {
                int f = buf.getUnsignedByte(HEADER_LENGTH);
                if (f == DubboWire.RESPONSE_WITH_EXCEPTION || f == DubboWire.RESPONSE_WITH_EXCEPTION_WITH_ATTACHMENTS) {
                    return ResponseClass.BUSINESS_ERROR;
                }
            }
            return ResponseClass.OK;
        }
        if (status == DubboWire.CLIENT_TIMEOUT || status == DubboWire.SERVER_TIMEOUT) {
            return ResponseClass.TIMEOUT;
        }
        return ResponseClass.RPC_ERROR;
    }

    @Override
    public int status() {
        return status;
    }

    // ---- RequestHeaders

    @Override
    public String protocol() {
        return DubboProtocol.NAME;
    }

    @Override
    public String service() {
        parseLeading();
        return path;
    }

    @Override
    public String method() {
        parseLeading();
        return method;
    }

    /**
     * {@code dubbo} = protocol version field, {@code version} = service version field; anything else (including
     * {@code group}) is an attachment, read lazily on first use.
     */
    @Override
    public String header(String name) {
        parseLeading();
        if ("version".equals(name)) {
            return version;
        }
        if ("dubbo".equals(name)) {
            return dubboVersion;
        }
        String[] a = attachments();
        for (int i = 0; i < attachmentCount; i += 2) {
            if (name.equals(a[i])) {
                return a[i + 1];
            }
        }
        return null;
    }

    @Override
    public void forEachHeader(BiConsumer<String, String> visitor) {
        parseLeading();
        if (dubboVersion != null) {
            visitor.accept("dubbo", dubboVersion);
        }
        if (version != null) {
            visitor.accept("version", version);
        }
        String[] a = attachments();
        for (int i = 0; i < attachmentCount; i += 2) {
            String k = a[i];
            if (!"dubbo".equals(k) && !"version".equals(k) && a[i + 1] != null) {
                visitor.accept(k, a[i + 1]);
            }
        }
    }

    /** The parse problem of the body, if reading it failed (the frame itself is intact and forwarded as is). */
    @Override
    public String unreadable() {
        return parseProblem;
    }

    /** Attachment {@code remote.application}, else {@code application}. */
    @Override
    public String callerApp() {
        String app = header("remote.application");
        return app != null ? app : header("application");
    }

    // ---- lazy parsing

    private void parseLeading() {
        if (leadingState != 0) {
            return;
        }
        leadingState = 2;
        if (!isRequest() || (kind != FrameKind.REQUEST && kind != FrameKind.ONEWAY)) {
            return;
        }
        if (serializationId() != DubboWire.HESSIAN2) {
            parseProblem = "serialization id " + serializationId() + " is not Hessian2 (2)";
            return;
        }
        int start = HEADER_LENGTH;
        try {
            Hessian2Cursor c = new Hessian2Cursor(buf, start, length);
            dubboVersion = c.readString(strings);
            path = c.readString(strings);
            version = c.readString(strings);
            method = c.readString(strings);
            argsOffset = c.position();
            leadingState = 1;
        } catch (HessianFormatException e) {
            parseProblem = "unreadable request body: " + e.getMessage();
            log.debug("dubbo request id {}: {}", id, parseProblem);
        }
    }

    private String[] attachments() {
        if (attachments != null) {
            return attachments;
        }
        attachments = NO_ATTACHMENTS;
        if (leadingState != 1) {
            return attachments;
        }
        try {
            DubboBody.readAttachments(buf, argsOffset, length, this::addAttachment);
        } catch (HessianFormatException e) {
            // Route without attachments: a half-read map could match a route it should not.
            attachments = NO_ATTACHMENTS;
            attachmentCount = 0;
            parseProblem = "unreadable attachments: " + e.getMessage();
            log.debug("dubbo request {} {}#{} id {}: {}", path, version, method, id, parseProblem);
        }
        return attachments;
    }

    private void addAttachment(String key, String value) {
        if (attachmentCount + 2 > attachments.length) {
            String[] grown = new String[Math.max(16, attachments.length * 2)];
            System.arraycopy(attachments, 0, grown, 0, attachmentCount);
            attachments = grown;
        }
        attachments[attachmentCount++] = key;
        attachments[attachmentCount++] = value;
    }

    @Override
    protected void clear() {
        strings = null;
        attachments = null;
        dubboVersion = null;
        path = null;
        version = null;
        method = null;
        parseProblem = null;
    }

    @Override
    protected void backToPool() {
        handle.recycle(this);
    }

    @Override
    public String toString() {
        return "DubboFrame(" + kind + ", id=" + id + ", flag=0x" + Integer.toHexString(flag) + ", status=" + status
                + ", " + length + " bytes" + (refCnt() <= 0 ? ", released" : "") + ")";
    }
}
