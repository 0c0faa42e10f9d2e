package io.remora.bolt;

import io.netty.buffer.ByteBuf;
import io.remora.core.protocol.Detection;
import io.remora.core.protocol.Protocol;
import io.remora.core.protocol.ProtocolOptions;
import io.remora.core.protocol.RpcCodec;

/**
 * SOFA Bolt (SOFARPC's default protocol), v1 and v2, as a Remora protocol plugin named {@code "bolt"}.
 *
 * <ul>
 *   <li><b>Detection:</b> first byte {@code 0x01} (v1) or {@code 0x02} (v2, with {@code ver1} 1 or 2 once known).</li>
 *   <li><b>Routing keys:</b> {@code service()} = header {@code service}, else {@code sofa_head_target_service}, else
 *       the class name (plain bolt {@code RpcClient}s send no header); {@code method()} = header
 *       {@code sofa_head_method_name}; {@code callerApp()} = header {@code app}; {@code header(name)} = any
 *       SimpleMapSerializer header. Headers are scanned in place on first use, never copied into a map; a malformed
 *       header blob reads as no headers.</li>
 *   <li><b>Ids and timeouts:</b> ids are rewritten in place per upstream connection (max {@code Integer.MAX_VALUE});
 *       the request timeout field is rewritten to the remaining time; v2 CRC32 trailers are recomputed.</li>
 *   <li><b>Heartbeats</b> (cmdcode 0) are answered locally with the same id, proto and ver1.</li>
 *   <li><b>Errors:</b> TIMEOUT → status {@code 0x0007}; any other proxy error → {@code SofaResponse} error carrying
 *       the message; an explicit native status (fault injection) is sent status-only when bolt knows the value.</li>
 *   <li><b>Limits:</b> frames above {@link ProtocolOptions#maxFrameBytes()} (checked on the declared lengths before
 *       the body arrives), unknown proto/type/cmdcode or v2 {@code ver1} outside {1, 2} close the connection.</li>
 * </ul>
 */
public final class BoltProtocol implements Protocol {

    public static final String NAME = "bolt";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Detection detect(ByteBuf firstBytes) {
        int n = firstBytes.readableBytes();
        if (n < 1) {
            return Detection.NEED_MORE_DATA;
        }
        int r = firstBytes.readerIndex();
        byte b0 = firstBytes.getByte(r);
        if (b0 == BoltWire.PROTO_V1) {
            return Detection.MATCH;
        }
        if (b0 == BoltWire.PROTO_V2) {
            if (n < 2) {
                return Detection.MATCH;
            }
            byte ver1 = firstBytes.getByte(r + 1);
            return ver1 == 1 || ver1 == 2 ? Detection.MATCH : Detection.NO_MATCH;
        }
        return Detection.NO_MATCH;
    }

    @Override
    public RpcCodec codec(ProtocolOptions options) {
        return new BoltCodec(this, options);
    }
}
