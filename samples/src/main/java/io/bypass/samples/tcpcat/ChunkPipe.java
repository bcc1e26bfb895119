package io.bypass.samples.tcpcat;

import org.agrona.concurrent.OneToOneConcurrentArrayQueue;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;
import java.util.concurrent.locks.LockSupport;

/**
 * Hands chunks of bytes from one thread to another without allocating: a fixed set of direct
 * buffers goes round two single-producer single-consumer queues, {@code full} (producer to
 * consumer) and {@code free} (back). The producer marks the end of its stream (or a failure)
 * once its last chunk is in; the consumer sees the end only after taking every chunk.
 */
final class ChunkPipe {
    /** One buffer going round: {@link #length} bytes from 0 are the data. */
    static final class Chunk {
        final ByteBuffer bytes;
        final UnsafeBuffer view;
        int length;

        Chunk(final int size) {
            bytes = ByteBuffer.allocateDirect(size);
            view = new UnsafeBuffer(bytes);
        }
    }

    private final OneToOneConcurrentArrayQueue<Chunk> full;
    private final OneToOneConcurrentArrayQueue<Chunk> free;
    private final int chunkSize;
    private volatile boolean ended;
    private volatile String failure;

    /**
     * @param chunks    how many chunks go round
     * @param chunkSize bytes each
     */
    ChunkPipe(final int chunks, final int chunkSize) {
        this.chunkSize = chunkSize;
        full = new OneToOneConcurrentArrayQueue<>(chunks);
        free = new OneToOneConcurrentArrayQueue<>(chunks);
        for (int i = 0; i < chunks; i++) {
            free.offer(new Chunk(chunkSize));
        }
    }

    /** @return bytes per chunk */
    int chunkSize() {
        return chunkSize;
    }

    /** Producer: a free chunk, or null if all are in flight. */
    Chunk takeFree() {
        return free.poll();
    }

    /**
     * Producer: a free chunk, waiting for the consumer to give one back.
     *
     * @param stop checked while waiting
     * @return the chunk, or null if {@code stop} was set meanwhile
     */
    Chunk awaitFree(final java.util.function.BooleanSupplier stop) {
        Chunk c;
        while ((c = free.poll()) == null) {
            if (stop.getAsBoolean()) {
                return null;
            }
            LockSupport.parkNanos(20_000);
        }
        return c;
    }

    /** @return free chunks now */
    int freeChunks() {
        return free.size();
    }

    /** Producer: hands a filled chunk over (there is always room: chunks never outnumber the queue). */
    void put(final Chunk c) {
        full.offer(c);
    }

    /** Producer: no more chunks will come. */
    void end() {
        ended = true;
    }

    /**
     * Producer: the stream failed; the consumer sees the end and the reason.
     *
     * @param reason what went wrong
     */
    void fail(final String reason) {
        failure = reason;
        ended = true;
    }

    /** Consumer: the next filled chunk, or null (see {@link #isDrained}). */
    Chunk take() {
        return full.poll();
    }

    /** Consumer: gives a chunk back to the producer. */
    void recycle(final Chunk c) {
        c.length = 0;
        free.offer(c);
    }

    /** Consumer: true once the producer has ended and every chunk was taken. */
    boolean isDrained() {
        return ended && full.isEmpty(); // ended is read first: every put came before it
    }

    /** @return why the producer failed, or null */
    String failure() {
        return failure;
    }
}
