package io.remora.upgrade;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.remora.core.config.ConfigLoader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * One control message between the old and the new sidecar on the upgrade socket. Wire (big-endian):
 * {@code u32 length-of-rest | u8 version (1) | u8 type | u32 meta-length | meta (UTF-8 JSON object) | blob}.
 * File descriptors never travel in a message: each goes alone, right after the receiver's {@link Type#READY}.
 */
record Msg(Type type, ObjectNode meta, byte[] blob) {

    static final int VERSION = 1;
    static final int MAX_FRAME = 64 * 1024 * 1024;
    private static final byte[] NONE = new byte[0];

    enum Type {
        /** new to old: {pid, version}. */
        HELLO,
        /** old to new: {pid, listeners[]}; the old stops accepting further upgraders. */
        HELLO_ACK,
        /** old to new: {id, kind: listener|admin|metrics|connection, name, remote?} + blob = bytes read, not decoded. */
        OFFER,
        /** new to old: {id}; the new side now reads file descriptors: send the fd alone. */
        READY,
        /** new to old: {id, ok, error?} for an OFFER (after adopting the fd) or {ok} for LISTENERS_DONE/DONE. */
        ACK,
        /** old to new: every listening socket was offered. */
        LISTENERS_DONE,
        /** new to old: {adopted[]}: the new process serves; stop accepting. */
        TAKEOVER,
        /** old to new: {counters[]}: the old stopped accepting; cumulative counters to add once. */
        TAKEOVER_ACK,
        /** old to new: {migrated, drained, counters[]}: no more connections; counter increments since TAKEOVER_ACK. */
        DONE,
        /** either way: {message}; the receiver aborts the upgrade. */
        ERROR
    }

    static Msg of(Type type) {
        return new Msg(type, ConfigLoader.mapper().createObjectNode(), NONE);
    }

    static Msg of(Type type, ObjectNode meta, byte[] blob) {
        return new Msg(type, meta, blob == null ? NONE : blob);
    }

    long id() {
        JsonNode n = meta.get("id");
        return n == null ? -1 : n.asLong();
    }

    String text(String field) {
        JsonNode n = meta.get(field);
        return n == null || n.isNull() ? null : n.asText();
    }

    ByteBuf encode(ByteBufAllocator alloc) {
        byte[] m = meta.toString().getBytes(StandardCharsets.UTF_8);
        ByteBuf b = alloc.buffer(4 + 2 + 4 + m.length + blob.length);
        b.writeInt(2 + 4 + m.length + blob.length);
        b.writeByte(VERSION);
        b.writeByte(type.ordinal());
        b.writeInt(m.length);
        b.writeBytes(m);
        b.writeBytes(blob);
        return b;
    }

    /** Decodes one frame body (after the length prefix); throws IOException on anything malformed. */
    static Msg decode(ByteBuf frame) throws IOException {
        if (frame.readableBytes() < 6) {
            throw new IOException("upgrade frame too short: " + frame.readableBytes() + " bytes");
        }
        int version = frame.readUnsignedByte();
        if (version != VERSION) {
            throw new IOException("upgrade protocol version " + version + ", this sidecar speaks " + VERSION);
        }
        int type = frame.readUnsignedByte();
        if (type >= Type.values().length) {
            throw new IOException("unknown upgrade message type " + type);
        }
        int metaLen = frame.readInt();
        if (metaLen < 0 || metaLen > frame.readableBytes()) {
            throw new IOException("upgrade meta length " + metaLen + " exceeds the frame");
        }
        byte[] m = new byte[metaLen];
        frame.readBytes(m);
        byte[] blob = new byte[frame.readableBytes()];
        frame.readBytes(blob);
        JsonNode meta = ConfigLoader.mapper().readTree(m);
        if (!(meta instanceof ObjectNode o)) {
            throw new IOException("upgrade meta is not a JSON object");
        }
        return new Msg(Type.values()[type], o, blob);
    }

    @Override
    public String toString() {
        return type + meta.toString() + (blob.length == 0 ? "" : " +" + blob.length + " bytes");
    }
}
