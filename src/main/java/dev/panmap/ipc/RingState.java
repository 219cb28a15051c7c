package dev.panmap.ipc;

import dev.panmap.ProcessInfo;
import java.util.List;

/**
 * A snapshot of a ring for tools ({@link Ring#state()}, {@code panmap ring}): read without any lock
 * while producers and consumer run, so the counts are each exact but not taken at one instant.
 *
 * @param kind            {@code one-to-one}, {@code many-to-one} or {@code broadcast}
 * @param capacity        buffer bytes
 * @param maxMessage      the largest payload
 * @param produced        bytes claimed since creation (the tail position)
 * @param consumed        bytes consumed since creation (the head position; broadcast: 0)
 * @param lag             bytes produced and not yet consumed
 * @param producedMessages messages committed (broadcast: transmitted)
 * @param consumedMessages messages handed to the consumer
 * @param producers       the producer (transmitter) processes holding entries, live or dead
 * @param maxProducers    producer entries
 * @param consumer        the consumer's process, if one is registered
 * @param skippedClaims   claims of dead producers turned into padding
 * @param skippedBytes    their bytes
 * @param sleeping        consumers sleeping in the kernel now (0 or 1)
 * @param wakeCalls       futex wakes producers made
 */
public record RingState(String kind, long capacity, int maxMessage, long produced, long consumed, long lag,
                        long producedMessages, long consumedMessages, List<ProcessInfo> producers, int maxProducers,
                        ProcessInfo consumer, long skippedClaims, long skippedBytes, int sleeping, long wakeCalls) {

    /** {@return how many producers are alive} */
    public long producersAlive() {
        return producers.stream().filter(ProcessInfo::alive).count();
    }
}
