package dev.panmap.ipc;

import java.lang.foreign.MemorySegment;

/**
 * Receives the messages of {@link RingConsumer#controlledRead} and steers the read with each, as
 * Agrona's controlled handlers do. The payload is {@code length} bytes of {@code buffer} at
 * {@code offset}, valid only during the call.
 */
@FunctionalInterface
public interface ControlledMessageHandler {
    /** What the read does after a message. */
    enum Action {
        /** Stop before this message: it is not consumed, the next read hands it out again. */
        ABORT,
        /** Consume this message and stop the read after it. */
        BREAK,
        /** Consume this message and give everything read so far back to the producers now, then go on. */
        COMMIT,
        /** Consume this message and go on. */
        CONTINUE
    }

    /**
     * Handles one message.
     *
     * @param type its type, at least 1
     * @param buffer the segment that holds its payload
     * @param offset where the payload starts in {@code buffer}
     * @param length the payload's length in bytes
     * @return what the read does next
     */
    Action onMessage(int type, MemorySegment buffer, long offset, int length);
}
