package io.remora.dubbo;

/** Constants of the {@code dubbo://} exchange header (protocols.md §2.1, §2.4). */
final class DubboWire {

    static final int HEADER_LENGTH = 16;
    static final int MAGIC_HIGH = 0xDA;
    static final int MAGIC_LOW = 0xBB;
    static final int OFFSET_FLAG = 2;
    static final int OFFSET_STATUS = 3;
    static final int OFFSET_ID = 4;
    static final int OFFSET_LENGTH = 12;

    static final int FLAG_REQUEST = 0x80;
    static final int FLAG_TWOWAY = 0x40;
    static final int FLAG_EVENT = 0x20;
    static final int SERIALIZATION_MASK = 0x1F;
    static final int HESSIAN2 = 2;

    static final int OK = 20;
    static final int CLIENT_TIMEOUT = 30;
    static final int SERVER_TIMEOUT = 31;
    static final int BAD_REQUEST = 40;
    static final int SERVICE_NOT_FOUND = 60;
    static final int SERVER_ERROR = 80;
    static final int SERVER_THREADPOOL_EXHAUSTED_ERROR = 100;

    /** Hessian2 null: the body of a heartbeat. */
    static final int HESSIAN_NULL = 'N';

    /** Response-body flags (Hessian ints 0..5, one byte 0x90..0x95) that mean "the service threw". */
    static final int RESPONSE_WITH_EXCEPTION = 0x90;
    static final int RESPONSE_WITH_EXCEPTION_WITH_ATTACHMENTS = 0x93;

    private DubboWire() {
    }
}
