package io.remora.core.digest;

import io.micrometer.core.instrument.Counter;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One digest file as the writer thread sees it: a reusable byte buffer of whole lines, written in batches through a
 * FileChannel, rolled by size like the other logs ({@code name.1} .. {@code name.5}). A failed write drops the
 * buffered lines (counted), logs one WARN per failure streak and reopens the file on the next batch.
 * Writer thread only.
 */
final class DigestFile {

    static final int BUFFER_BYTES = 64 * 1024;
    static final int ROLLED_FILES = 5;
    private static final Logger LOG = LoggerFactory.getLogger(DigestLog.class);

    private final Path path;
    private final Path[] rolled = new Path[ROLLED_FILES];
    private final long rollBytes;
    private final Counter dropped;
    final byte[] buf = new byte[BUFFER_BYTES];
    private final ByteBuffer out = ByteBuffer.wrap(buf);
    /** end of the buffered bytes */
    int pos;
    /** lines in the buffer (what a failed write drops) */
    private int lines;
    private FileChannel channel;
    private long size;
    private boolean failing;
    private boolean rollFailing;

    DigestFile(Path path, long rollBytes, Counter dropped) {
        this.path = path;
        for (int i = 0; i < ROLLED_FILES; i++) {
            rolled[i] = path.resolveSibling(path.getFileName() + "." + (i + 1));
        }
        this.rollBytes = rollBytes;
        this.dropped = dropped;
    }

    /** Makes room for one more line (writing out what is buffered if needed) and counts it. */
    void reserveLine() {
        if (buf.length - pos < DigestFormat.MAX_LINE) {
            flush();
        }
        lines++;
    }

    /** Writes the buffered lines, then rolls when the file has reached its size. */
    void flush() {
        if (pos == 0) {
            return;
        }
        try {
            if (channel == null) {
                open();
            }
            out.limit(pos).position(0);
            while (out.hasRemaining()) {
                size += channel.write(out);
            }
            if (failing) {
                failing = false;
                LOG.warn("digest log {} is written again", path);
            }
        } catch (IOException | RuntimeException e) {
            dropped.increment(lines);
            if (!failing) {
                failing = true;
                LOG.warn("digest log {}: write failed, dropping lines until it works again: {}", path, e.toString());
            }
            closeChannel();
        } finally {
            pos = 0;
            lines = 0;
        }
        if (channel != null && size >= rollBytes) {
            roll();
        }
    }

    /** Once in a while: a file deleted or moved away under us is recreated instead of written into the void. */
    void checkStillThere() {
        if (channel != null && !Files.exists(path)) {
            closeChannel();
        }
    }

    void close() {
        flush();
        closeChannel();
    }

    private void open() throws IOException {
        Files.createDirectories(path.getParent());
        channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND);
        size = channel.size();
    }

    /** name.4 -> name.5, ..., name -> name.1 (the oldest is deleted); the next batch opens a new file. */
    private void roll() {
        closeChannel();
        try {
            Files.deleteIfExists(rolled[ROLLED_FILES - 1]);
            for (int i = ROLLED_FILES - 2; i >= 0; i--) {
                if (Files.exists(rolled[i])) {
                    Files.move(rolled[i], rolled[i + 1], StandardCopyOption.REPLACE_EXISTING);
                }
            }
            Files.move(path, rolled[0], StandardCopyOption.REPLACE_EXISTING);
            rollFailing = false;
        } catch (IOException | RuntimeException e) {
            if (!rollFailing) {
                rollFailing = true;
                LOG.warn("digest log {}: rolling failed, appending to it: {}", path, e.toString());
            }
        }
    }

    private void closeChannel() {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // the lines already written are the kernel's; nothing to do
            }
            channel = null;
        }
    }
}
