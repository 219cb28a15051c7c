package dev.panmap.ipc;

import java.lang.foreign.MemorySegment;

/**
 * Receives the messages a consumer reads: the payload is {@code length} bytes of {@code buffer} at
 * {@code offset}, valid only during the call (the space is zeroed and given back to the producers
 * after the batch). Nothing is allocated per message.
 */
@FunctionalInterface
public interface MessageHandler {
    /**
     * Handles one message.
     *
     * @param type its type, at least 1
     * @param buffer the segment that holds its payload
     * @param offset where the payload starts in {@code buffer}
     * @param length the payload's length in bytes
     */
    void onMessage(int type, MemorySegment buffer, long offset, int length);
}
