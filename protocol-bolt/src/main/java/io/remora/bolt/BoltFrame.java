package io.remora.bolt;

import io.netty.buffer.ByteBuf;
import io.netty.util.Recycler;
import io.remora.core.protocol.FrameKind;
import io.remora.core.protocol.PooledFrame;
import io.remora.core.protocol.ResponseClass;
import io.remora.core.protocol.RpcFrame;
import io.remora.core.protocol.Utf8Cache;
import java.nio.charset.StandardCharsets;
import java.util.function.BiConsumer;

/**
 * One Bolt frame over a retained slice of the bytes it was decoded from (index 0 = the proto byte). The fixed header
 * fields are read at decode time; the header map, service and method only when asked. {@link #requestId()} is the id
 * as decoded and stays so after {@link BoltCodec#encodeRequest} patched the buffer.
 *
 * <p>Frame objects are pooled per thread: the frame has its own reference count and holds one reference to its slice;
 * the last release releases the slice and returns the object to the pool (unless {@link #keepObject()} was called).
 * Like every pooled Netty object, a frame must not be used after its last release.
 */
final class BoltFrame extends PooledFrame {

    static final String HEADER_SERVICE = "service";
    static final String HEADER_TARGET_SERVICE = "sofa_head_target_service";
    static final String HEADER_METHOD = "sofa_head_method_name";
    static final String HEADER_APP = "app";
    static final String HEADER_RESPONSE_ERROR = "sofa_head_response_error";
    static final String HEADER_TARGET_APP = "sofa_head_target_app";
    static final String HEADER_TRACE_ID = "rpc_trace_context.sofaTraceId";
    static final String HEADER_RPC_ID = "rpc_trace_context.sofaRpcId";
    /** SOFA tracer's newer single-header form: {@code tcid=<traceId>&spid=<spanId>&pspid=...}. */
    static final String HEADER_NEW_TRACE = "new_rpc_trace_context";

    private static final byte[] SERVICE = BoltHeaderScanner.utf8(HEADER_SERVICE);
    private static final byte[] TARGET_SERVICE = BoltHeaderScanner.utf8(HEADER_TARGET_SERVICE);
    private static final byte[] METHOD = BoltHeaderScanner.utf8(HEADER_METHOD);
    private static final byte[] APP = BoltHeaderScanner.utf8(HEADER_APP);
    private static final byte[] RESPONSE_ERROR = BoltHeaderScanner.utf8(HEADER_RESPONSE_ERROR);
    private static final byte[] TARGET_APP = BoltHeaderScanner.utf8(HEADER_TARGET_APP);
    private static final byte[] TRACE_ID = BoltHeaderScanner.utf8(HEADER_TRACE_ID);
    private static final byte[] RPC_ID = BoltHeaderScanner.utf8(HEADER_RPC_ID);
    private static final byte[] NEW_TRACE = BoltHeaderScanner.utf8(HEADER_NEW_TRACE);

    private static final byte UNCHECKED = 0;
    private static final byte WELL_FORMED = 1;
    private static final byte MALFORMED = 2;

    private static final Recycler<BoltFrame> POOL = new Recycler<>() {
        @Override
        protected BoltFrame newObject(Handle<BoltFrame> handle) {
            return new BoltFrame(handle);
        }
    };

    private final Recycler.Handle<BoltFrame> handle;
    private BoltProtocol protocol;
    private FrameKind kind;
    private boolean v2;
    private int ver1;
    private byte type;
    private int cmdCode;
    private long requestId;
    /** Requests: the timeout field (ms, -1 none). Responses: the status. */
    private int timeoutOrStatus;
    private int classStart;
    private int classLen;
    private int headerLen;
    private boolean crc;

    private byte headerState = UNCHECKED;
    /** The decoding connection's string cache, or null (frames built elsewhere). */
    Utf8Cache strings;
    private boolean serviceResolved;
    private String service;
    private boolean methodResolved;
    private String method;

    private BoltFrame(Recycler.Handle<BoltFrame> handle) {
        this.handle = handle;
    }

    /** A frame over {@code buf} (the caller's reference moves to the frame), from the pool. */
    static BoltFrame of(BoltProtocol protocol, ByteBuf buf, FrameKind kind, boolean v2, int ver1, byte type,
                        int cmdCode, long requestId, int timeoutOrStatus, int fixedHeader, int classLen,
                        int headerLen, boolean crc) {
        BoltFrame f = POOL.get();
        f.protocol = protocol;
        f.open(buf);
        f.kind = kind;
        f.v2 = v2;
        f.ver1 = ver1;
        f.type = type;
        f.cmdCode = cmdCode;
        f.requestId = requestId;
        f.timeoutOrStatus = timeoutOrStatus;
        f.classStart = fixedHeader;
        f.classLen = classLen;
        f.headerLen = headerLen;
        f.crc = crc;
        f.headerState = UNCHECKED;
        f.strings = null;
        f.serviceResolved = false;
        f.service = null;
        f.methodResolved = false;
        f.method = null;
        return f;
    }

    /** The frame's length in bytes, fixed at decode time (the reader index of the slice is never moved). */
    int length() {
        return length;
    }

    // ---- wire facts for the codec

    boolean v2() {
        return v2;
    }

    int ver1() {
        return ver1;
    }

    byte type() {
        return type;
    }

    int cmdCode() {
        return cmdCode;
    }

    boolean crcPresent() {
        return crc;
    }

    boolean isRequestType() {
        return type != BoltWire.TYPE_RESPONSE;
    }

    /** The v2 switch byte (0 for v1). */
    int switchByte() {
        return v2 ? buf.getUnsignedByte(11) : 0;
    }

    /** The serializer id byte. */
    byte serializer() {
        return buf.getByte(BoltWire.codecOffset(v2));
    }

    /** The class name field, or null when empty. */
    String className() {
        if (classLen == 0) {
            return null;
        }
        return strings != null ? strings.get(buf, classStart, classLen)
                : buf.toString(classStart, classLen, StandardCharsets.UTF_8);
    }

    // ---- RpcFrame

    @Override
    public FrameKind kind() {
        return kind;
    }

    @Override
    public long requestId() {
        return requestId;
    }

    @Override
    public int timeoutMillis() {
        if (!isRequestType()) {
            return -1;
        }
        return timeoutOrStatus < 0 ? -1 : timeoutOrStatus;
    }

    @Override
    public ResponseClass responseClass() {
        if (isRequestType()) {
            return ResponseClass.OK;
        }
        if (timeoutOrStatus != BoltWire.STATUS_SUCCESS) {
            return ResponseClass.RPC_ERROR;
        }
        return "true".equals(header(RESPONSE_ERROR)) ? ResponseClass.BUSINESS_ERROR : ResponseClass.OK;
    }

    @Override
    public int status() {
        return isRequestType() ? 0 : timeoutOrStatus;
    }

    // ---- RequestHeaders

    @Override
    public String protocol() {
        return protocol.name();
    }

    /** Header {@code service}, else {@code sofa_head_target_service}, else the class name (plain bolt clients). */
    @Override
    public String service() {
        if (!serviceResolved) {
            String s = header(SERVICE);
            if (s == null) {
                s = header(TARGET_SERVICE);
            }
            if (s == null) {
                s = className();
            }
            service = s;
            serviceResolved = true;
        }
        return service;
    }

    @Override
    public String method() {
        if (!methodResolved) {
            method = header(METHOD);
            methodResolved = true;
        }
        return method;
    }

    @Override
    public String callerApp() {
        return header(APP);
    }

    @Override
    public String targetApp() {
        return header(TARGET_APP);
    }

    /** {@code rpc_trace_context.sofaTraceId}, else {@code tcid} of {@code new_rpc_trace_context}. */
    @Override
    public String traceId() {
        String v = header(TRACE_ID);
        return v != null ? v : newTraceField("tcid=");
    }

    /** {@code rpc_trace_context.sofaRpcId}, else {@code spid} of {@code new_rpc_trace_context}. */
    @Override
    public String rpcId() {
        String v = header(RPC_ID);
        return v != null ? v : newTraceField("spid=");
    }

    private String newTraceField(String prefix) {
        String ctx = header(NEW_TRACE);
        if (ctx == null) {
            return null;
        }
        int start = 0;
        while (start < ctx.length()) {
            int end = ctx.indexOf('&', start);
            if (end < 0) {
                end = ctx.length();
            }
            if (ctx.startsWith(prefix, start)) {
                return ctx.substring(start + prefix.length(), end);
            }
            start = end + 1;
        }
        return null;
    }

    @Override
    public String header(String name) {
        if (name == null || !headerWellFormed()) {
            return null;
        }
        return value(BoltHeaderScanner.find(buf, headerStart(), headerEnd(), name));
    }

    private String value(long found) {
        if (strings == null || found == BoltHeaderScanner.ABSENT) {
            return BoltHeaderScanner.value(buf, found);
        }
        return strings.get(buf, (int) (found >>> 32), (int) found);
    }

    private String header(byte[] key) {
        if (!headerWellFormed()) {
            return null;
        }
        return value(BoltHeaderScanner.find(buf, headerStart(), headerEnd(), key));
    }

    @Override
    public void forEachHeader(BiConsumer<String, String> visitor) {
        if (headerWellFormed()) {
            BoltHeaderScanner.forEach(buf, headerStart(), headerEnd(), visitor);
        }
    }

    private int headerStart() {
        return classStart + classLen;
    }

    private int headerEnd() {
        return classStart + classLen + headerLen;
    }

    /** Checked once: a malformed header reads as no headers at all (bolt's own decoder would reject it). */
    private boolean headerWellFormed() {
        if (headerState == UNCHECKED) {
            headerState = BoltHeaderScanner.isWellFormed(buf, headerStart(), headerEnd()) ? WELL_FORMED : MALFORMED;
        }
        return headerState == WELL_FORMED;
    }

    @Override
    protected void clear() {
        strings = null;
        service = null;
        method = null;
        protocol = null;
    }

    @Override
    protected void backToPool() {
        handle.recycle(this);
    }

    @Override
    public String toString() {
        return "BoltFrame(" + (v2 ? "v2/" + ver1 : "v1") + ' ' + kind + " id=" + requestId
                + (isRequestType() ? " timeout=" + timeoutOrStatus : " status=" + timeoutOrStatus)
                + " size=" + length + (crc ? " crc" : "") + (refCnt() <= 0 ? " released" : "") + ')';
    }
}
