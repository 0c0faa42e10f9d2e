package io.remora.bolt;

import io.netty.buffer.ByteBuf;
import java.util.zip.CRC32;

/** Bolt v1/v2 wire constants and offsets (protocols.md §1.2). Offsets are from the first byte of a frame. */
final class BoltWire {

    static final byte PROTO_V1 = 0x01;
    static final byte PROTO_V2 = 0x02;

    static final byte TYPE_RESPONSE = 0x00;
    static final byte TYPE_REQUEST = 0x01;
    static final byte TYPE_ONEWAY = 0x02;

    static final short CMD_HEARTBEAT = 0x0000;
    static final short CMD_REQUEST = 0x0001;
    static final short CMD_RESPONSE = 0x0002;
    /** MOSN's GOAWAY extension: the peer asks us to stop sending on this connection. Never sent by us. */
    static final short CMD_GOAWAY = 100;

    static final byte VER2 = 0x01;
    static final byte CODEC_HESSIAN2 = 0x01;

    static final int V1_REQUEST_HEADER = 22;
    static final int V1_RESPONSE_HEADER = 20;
    /** v2 adds ver1 (offset 1) and switch (offset 11). */
    static final int V2_EXTRA = 2;
    static final int CRC_BYTES = 4;

    /** v2 switch bit 0: a CRC32 trailer follows the content when ver1 == 2. */
    static final int SWITCH_CRC = 0x01;

    // com.alipay.remoting.ResponseStatus values (note the gap after 0x0009).
    static final int STATUS_SUCCESS = 0x0000;
    static final int STATUS_TIMEOUT = 0x0007;

    private BoltWire() {
    }

    /** True for the values bolt's {@code ResponseStatus.valueOf} accepts; anything else makes the client throw. */
    static boolean isValidStatus(int status) {
        return (status >= 0x0000 && status <= 0x0009) || (status >= 0x0010 && status <= 0x0012);
    }

    static int idOffset(boolean v2) {
        return v2 ? 6 : 5;
    }

    static int codecOffset(boolean v2) {
        return v2 ? 10 : 9;
    }

    /** The request timeout field, or the response status field (same offset). */
    static int timeoutOrStatusOffset(boolean v2) {
        return v2 ? 12 : 10;
    }

    static int fixedHeader(boolean v2, boolean request) {
        return (request ? V1_REQUEST_HEADER : V1_RESPONSE_HEADER) + (v2 ? V2_EXTRA : 0);
    }

    static boolean crcPresent(boolean v2, int ver1, int switchByte) {
        return v2 && ver1 == 2 && (switchByte & SWITCH_CRC) != 0;
    }

    /** Writes the CRC32 of bytes [0, len - 4) of {@code frame} into its last 4 bytes. */
    static void writeCrc(ByteBuf frame, int len) {
        frame.setInt(len - CRC_BYTES, crc32(frame, 0, len - CRC_BYTES));
    }

    static int crc32(ByteBuf buf, int index, int length) {
        CRC32 crc = new CRC32();
        if (buf.nioBufferCount() == 1) {
            crc.update(buf.nioBuffer(index, length));
        } else {
            for (java.nio.ByteBuffer b : buf.nioBuffers(index, length)) {
                crc.update(b);
            }
        }
        return (int) crc.getValue();
    }
}
