package dev.panmap.internal;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.MemoryAddress;
import jdk.jfr.Name;

/**
 * The JDK Flight Recorder events panmap emits, for the moments an operator asks about: a stale lock
 * recovered, a dead producer's ring claim skipped, an offset fallback, a huge-page fallback, a grow,
 * a refused open. Each carries the region's name. They cost nothing unless a recording enables them
 * ({@code java -XX:StartFlightRecording:filename=app.jfr ...}, then {@code jfr print --events
 * 'dev.panmap.*' app.jfr}); all are enabled by the JDK's default settings.
 *
 * <p>{@code jdk.jfr} is a module of the JDK, not a dependency, but a runtime image made without it
 * (jlink) or a module graph that does not resolve it has no Flight Recorder: then every method here
 * does nothing. The module requires {@code jdk.jfr} statically for that reason; the event classes
 * below are loaded only once {@link #AVAILABLE} says they can be.
 *
 * <p>Callers use the static methods; the event classes stay private to this class so that code
 * elsewhere never names a {@code jdk.jfr} type and never fails to link without it.
 */
public final class Events {
    private Events() {}

    /** Whether the Flight Recorder's classes can be used here (the {@code jdk.jfr} module is present and readable). */
    private static final boolean AVAILABLE = probe();

    private static boolean probe() {
        try {
            return new RegionGrown().getClass() != null; // loads and links jdk.jfr.Event
        } catch (LinkageError absent) {
            return false;
        }
    }

    /** {@return whether events can be emitted in this JVM} */
    public static boolean available() {
        return AVAILABLE;
    }

    // ------------------------------------------------------------------ what callers call

    /**
     * The writer lock was taken from a holder that died holding it.
     *
     * @param region the region's name
     * @param deadPid the dead holder's pid, as recorded
     * @param deadStartTime its recorded start time (the platform's clock ticks)
     */
    public static void staleLockRecovered(String region, int deadPid, long deadStartTime) {
        if (AVAILABLE) {
            StaleLockRecovered e = new StaleLockRecovered();
            if (e.shouldCommit()) {
                e.region = region;
                e.deadHolderPid = deadPid;
                e.deadHolderStartTime = deadStartTime;
                e.commit();
            }
        }
    }

    /**
     * A DIRECT region was mapped away from its recorded base, its references translated.
     *
     * @param region the region's name
     * @param recordedBase the base address in its header
     * @param mappedAt where it was mapped in this process instead
     */
    public static void offsetFallback(String region, long recordedBase, long mappedAt) {
        if (AVAILABLE) {
            OffsetFallback e = new OffsetFallback();
            if (e.shouldCommit()) {
                e.region = region;
                e.recordedBase = recordedBase;
                e.mappedAt = mappedAt;
                e.commit();
            }
        }
    }

    /**
     * Preferred huge pages were not had: the region uses ordinary (or transparent huge) pages.
     *
     * @param region the region's name
     * @param requestedPageSize the huge page size asked for
     * @param reason why, as {@code SharedRegion.pageFallback()} says it
     */
    public static void hugePageFallback(String region, long requestedPageSize, String reason) {
        if (AVAILABLE) {
            HugePageFallback e = new HugePageFallback();
            if (e.shouldCommit()) {
                e.region = region;
                e.requestedPageSize = requestedPageSize;
                e.reason = reason;
                e.commit();
            }
        }
    }

    /**
     * {@return the start of a grow, to hand to {@link #grown}: an event whose duration is the grow's,
     * or null when there is nothing to record}
     */
    public static Object growStarting() {
        if (AVAILABLE) {
            RegionGrown e = new RegionGrown();
            if (e.isEnabled()) {
                e.begin();
                return e;
            }
        }
        return null;
    }

    /**
     * A region grew in place.
     *
     * @param started what {@link #growStarting()} returned
     * @param region the region's name
     * @param oldSize the data area's size before, in bytes
     * @param newSize after
     * @param generation the generation published with the new size
     */
    public static void grown(Object started, String region, long oldSize, long newSize, long generation) {
        if (started instanceof RegionGrown e) {
            e.end();
            if (e.shouldCommit()) {
                e.region = region;
                e.oldSize = oldSize;
                e.newSize = newSize;
                e.generation = generation;
                e.commit();
            }
        }
    }

    /**
     * An open was refused: the region (or what stands at its name) could not be created or attached.
     *
     * @param region the name or path asked for
     * @param openMode the open mode asked for
     * @param kind the portable kind of the refusal
     * @param message what failed, and why
     */
    public static void openRefused(String region, String openMode, String kind, String message) {
        if (AVAILABLE) {
            OpenRefused e = new OpenRefused();
            if (e.shouldCommit()) {
                e.region = region;
                e.openMode = openMode;
                e.kind = kind;
                e.message = message;
                e.commit();
            }
        }
    }

    /**
     * A ring consumer turned the unfinished claim of a dead producer into padding and went on.
     *
     * @param region the region's name
     * @param ringOffset the ring's data offset in the region
     * @param position the ring position of the skipped claim
     * @param bytes how many bytes were skipped
     * @param producerPid the dead producer's pid, 0 if not known
     */
    public static void ringClaimSkipped(String region, long ringOffset, long position, long bytes, int producerPid) {
        if (AVAILABLE) {
            RingClaimSkipped e = new RingClaimSkipped();
            if (e.shouldCommit()) {
                e.region = region;
                e.ringOffset = ringOffset;
                e.position = position;
                e.bytes = bytes;
                e.producerPid = producerPid;
                e.commit();
            }
        }
    }

    // ------------------------------------------------------------------ the events

    @Name("dev.panmap.StaleLockRecovered")
    @Label("Stale Lock Recovered")
    @Category("panmap")
    @Description("The writer lock was taken from a holder that died holding it; the system had released it with the process")
    static final class StaleLockRecovered extends Event {
        @Label("Region")
        String region;
        @Label("Dead Holder Pid")
        int deadHolderPid;
        @Label("Dead Holder Start Time")
        @Description("The dead holder's start time as recorded (clock ticks since boot on Linux)")
        long deadHolderStartTime;
    }

    @Name("dev.panmap.OffsetFallback")
    @Label("Offset Fallback")
    @Category("panmap")
    @Description("A DIRECT region's base address was taken in this process: it was mapped elsewhere and its references are translated")
    static final class OffsetFallback extends Event {
        @Label("Region")
        String region;
        @Label("Recorded Base")
        @MemoryAddress
        long recordedBase;
        @Label("Mapped At")
        @MemoryAddress
        long mappedAt;
    }

    @Name("dev.panmap.HugePageFallback")
    @Label("Huge Page Fallback")
    @Category("panmap")
    @Description("Preferred huge pages were not had; the region uses other pages")
    static final class HugePageFallback extends Event {
        @Label("Region")
        String region;
        @Label("Requested Page Size")
        @DataAmount
        long requestedPageSize;
        @Label("Reason")
        String reason;
    }

    @Name("dev.panmap.RegionGrown")
    @Label("Region Grown")
    @Category("panmap")
    @Description("A region's data area grew in place; the duration is the grow's, under the writer lock")
    static final class RegionGrown extends Event {
        @Label("Region")
        String region;
        @Label("Old Size")
        @DataAmount
        long oldSize;
        @Label("New Size")
        @DataAmount
        long newSize;
        @Label("Generation")
        long generation;
    }

    @Name("dev.panmap.OpenRefused")
    @Label("Open Refused")
    @Category("panmap")
    @Description("A region could not be created or attached: missing, taken, refused by the system, or not a valid region")
    static final class OpenRefused extends Event {
        @Label("Region")
        String region;
        @Label("Open Mode")
        String openMode;
        @Label("Kind")
        String kind;
        @Label("Message")
        String message;
    }

    @Name("dev.panmap.RingClaimSkipped")
    @Label("Ring Claim Skipped")
    @Category("panmap")
    @Description("A ring consumer found the unfinished claim of a dead producer and skipped it as padding")
    static final class RingClaimSkipped extends Event {
        @Label("Region")
        String region;
        @Label("Ring Offset")
        long ringOffset;
        @Label("Position")
        long position;
        @Label("Bytes")
        @DataAmount
        long bytes;
        @Label("Producer Pid")
        int producerPid;
    }
}
