package dev.panmap.ipc;

import java.lang.foreign.MemorySegment;

/**
 * Receives the messages a consumer reads: the payload is {@code length} bytes of {@code buffer} at
 * {@code offset}, valid only during the call (the space is zeroed and given back to the producers
 * after the batch). Nothing is allocated per message.
 */
@FunctionalInterface
public interface MessageHandler {
    void onMessage(int type, MemorySegment buffer, long offset, int length);
}
