/**
 * Data structures that live inside a {@link dev.panmap.SharedRegion}, written once for both
 * addressing modes: a bump allocator ({@link dev.panmap.structures.RegionHeap}), a singly linked
 * list of fixed-size nodes ({@link dev.panmap.structures.NodeList}), a hash index
 * ({@link dev.panmap.structures.HashIndex}) and an ordered map
 * ({@link dev.panmap.structures.SkipList}). Their layouts are drawn in
 * {@link dev.panmap.structures.StructureLayout}.
 *
 * <pre>{@code
 * // process A
 * RegionHeap heap = RegionHeap.create(region, 0, region.size());
 * HashIndex index = HashIndex.create(heap, 1_000_000);
 * try (WriterLock.Held held = region.writerLock().hold()) {
 *     index.put(42, 4242, -1);
 * }
 * long root = index.root();                         // tell process B, e.g. in a well-known slot
 * // process B
 * HashIndex same = HashIndex.attach(region, root);  // checks magic and version
 * long v = same.get(42, -1);
 * }</pre>
 *
 * <ul>
 * <li><b>References.</b> Links between nodes are stored as {@link dev.panmap.References} says: absolute
 *     addresses in a DIRECT region, offsets in an OFFSET region. A process that maps a DIRECT region
 *     at its base follows them with one load per hop; elsewhere (OFFSET regions, and the offset
 *     fallback) a reference is translated by one add.</li>
 * <li><b>Writers</b> hold the region's writer lock; the changing methods check it. Allocation from a
 *     {@code RegionHeap} is lock-free (compare-and-set) and needs no lock.</li>
 * <li><b>Readers</b> take no lock and may run while a writer writes, in any process: every node or
 *     slot is complete before the release store that makes it reachable.</li>
 * <li><b>Checked references.</b> Every reference is checked before it is followed: a node handle the
 *     caller made up is an {@link java.lang.IllegalArgumentException}, a bad link in the region (a bug,
 *     a damaged region, a stray write by any process with write access) a
 *     {@link dev.panmap.ErrorKind#CORRUPT_REGION} exception, and a walk longer than the data area can
 *     hold (a cycle) one too — in both modes. On the DIRECT path the check is one rotate and one
 *     unsigned compare beside the load chain; {@link dev.panmap.structures.ReferenceChecking#UNCHECKED}
 *     drops it for those who want C's contract and its crashes.</li>
 * <li><b>Lifetime.</b> Every operation checks that the region is open. On the DIRECT path, reads go
 *     through a segment of the whole address space (that is what makes them as fast as C), so the
 *     addresses of a DIRECT region stay mapped for the life of the process once it has been mapped:
 *     a close leaves a zero reservation, and a later DIRECT region may be mapped over it. A thread
 *     still inside an operation when another closes the region — also when a new region is created at
 *     the same base right after — reads zeros or the new region's bytes, never unmapped memory; its
 *     checks keep it inside the old range, and the operation ends with
 *     {@link java.lang.IllegalStateException} (or, if the bytes it met were no list at all,
 *     {@code CORRUPT_REGION}) instead of returning what it read. Tested by
 *     {@code DirectModeTest.readersRacingWithCloseAndReopenAtTheSameBaseEndWithAnExceptionNeverAFault}.</li>
 * <li>Nothing is freed: keys are not removed and nodes are not reclaimed.</li>
 * </ul>
 */
package dev.panmap.structures;
