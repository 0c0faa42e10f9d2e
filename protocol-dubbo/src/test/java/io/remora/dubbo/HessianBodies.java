package io.remora.dubbo;

import com.alibaba.com.caucho.hessian.io.Hessian2Output;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.Map;

/** Request bodies written by hessian-lite exactly as DubboCodec.encodeRequestData writes them (test oracle). */
final class HessianBodies {

    private HessianBodies() {
    }

    static ByteBuf request(String path, String version, String method, Object[] args, Map<String, ?> attachments) {
        return Unpooled.wrappedBuffer(requestBytes(path, version, method, args, new HashMap<>(attachments)));
    }

    static byte[] requestBytes(String path, String version, String method, Object[] args, Object attachments) {
        try {
            ByteArrayOutputStream bos = new ByteArrayOutputStream();
            Hessian2Output out = new Hessian2Output(bos);
            out.writeString("2.0.2");
            out.writeString(path);
            out.writeString(version);
            out.writeString(method);
            out.writeString("Ljava/lang/Object;".repeat(args.length));
            for (Object a : args) {
                out.writeObject(a);
            }
            out.writeObject(attachments);
            out.flush();
            return bos.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A whole frame around {@code body} (released here). */
    static byte[] frame(int flag, long id, ByteBuf body) {
        try {
            byte[] f = new byte[16 + body.readableBytes()];
            ByteBuf b = Unpooled.wrappedBuffer(f);
            b.writerIndex(0);
            b.writeByte(0xDA).writeByte(0xBB).writeByte(flag).writeByte(0).writeLong(id).writeInt(body.readableBytes());
            b.writeBytes(body);
            return f;
        } finally {
            body.release();
        }
    }
}
