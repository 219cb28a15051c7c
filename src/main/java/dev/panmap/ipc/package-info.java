/**
 * Message passing between processes through rings that live in a {@link dev.panmap.SharedRegion}:
 * {@link dev.panmap.ipc.Ring} (one-to-one and many-to-one, variable-length messages with a type id,
 * zero-copy claims, {@code long} positions) with its {@link dev.panmap.ipc.RingProducer}s and its
 * {@link dev.panmap.ipc.RingConsumer}, and a broadcast buffer ({@link dev.panmap.ipc.BroadcastTransmitter},
 * {@link dev.panmap.ipc.BroadcastReceiver}) whose receivers may fall behind and count what they lost.
 * The layouts and the protocols are drawn in {@link dev.panmap.ipc.RingLayout}.
 *
 * <ul>
 * <li><b>Both addressing modes.</b> A ring holds only positions and offsets from its own root.</li>
 * <li><b>No allocation, no system call on the hot path.</b> Claims are offsets into the ring's buffer
 *     segment; handlers get the buffer, an offset and a length. A producer calls the kernel only to
 *     wake a consumer that said it sleeps.</li>
 * <li><b>Liveness by the kernel.</b> Every place a process holds in a ring (producer entry, consumer,
 *     transmitter) has a lock byte of the region object, locked while held and let go by the kernel
 *     when its process dies: no pid is judged, so zombies, reused pids and pid namespaces (containers
 *     sharing {@code /dev/shm}) are right by construction.</li>
 * <li><b>Crash safety.</b> A producer that dies inside a claim does not wedge the consumer: the claim is
 *     skipped once its producer is known dead (never while it lives; {@link dev.panmap.ipc.RingConsumer#unblock}
 *     takes a claim a thread of a live process left, and the late commit is refused). A consumer that dies is replaced
 *     by the next {@link dev.panmap.ipc.Ring#consumer()}, which goes on from the last consumed
 *     position. A broadcast transmitter that dies is replaced by the next
 *     {@link dev.panmap.ipc.BroadcastTransmitter#attach}.</li>
 * <li><b>Threads.</b> A producer, consumer, transmitter or receiver object belongs to one thread at a
 *     time; use one producer object per producing thread.</li>
 * <li><b>Platforms.</b> Blocking waits ({@link dev.panmap.ipc.RingConsumer#await}) use the Linux futex;
 *     on Windows they are {@code NOT_SUPPORTED} for now (a cross-process wait there needs a named
 *     event). Everything else is plain shared memory.</li>
 * </ul>
 */
package dev.panmap.ipc;
