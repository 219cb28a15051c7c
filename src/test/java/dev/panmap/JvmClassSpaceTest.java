package dev.panmap;

import static org.assertj.core.api.Assertions.assertThat;

import dev.panmap.testing.ChildJvm;
import dev.panmap.testing.LinuxOnly;
import dev.panmap.testing.RegionNames;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * HotSpot on aarch64 (JDK 25's) reserves its compressed class space, the CDS archive before it (1 GiB
 * and 16 MiB by default), at a 4 GiB-aligned address its decoding can use as an EOR immediate: the
 * first free of 120 candidates, tried from a random one, {@code 0x6000 << 32} among them. So about one
 * aarch64 JVM in 120 holds {@code [0x6000_0000_0000, 0x6000_4100_0000)}, and the arm64 environment's
 * run saw one such reader refused a region at the old default base, 0x6000_0000_0000 ("occupied by a
 * mapping panmap did not make: ... classes.jsa"). A child that reserves what such a JVM would, at the
 * 4 GiB boundary at or below a region created at the default base, attaches it at its base.
 */
@LinuxOnly
class JvmClassSpaceTest {
    /** What HotSpot reserves there by default: the CDS archive's 16 MiB, then a class space of 1 GiB. */
    static final long CLASS_SPACE = (1L << 30) + (16L << 20);

    @RegisterExtension
    final RegionNames names = new RegionNames();

    @Test
    void aJvmWithItsClassSpaceAtTheFourGigabyteBoundaryBelowTheDefaultBaseAttachesARegionThere() {
        String name = names.next("class-space");
        try (SharedRegion r = SharedRegion.create(name, RegionOptions.defaults().size(1 << 16).addressing(Addressing.DIRECT))) {
            long boundary = r.baseAddress() & -(1L << 32);
            try (ChildJvm child = ChildJvm.start(ClassSpaceChild.class, Long.toHexString(boundary), Long.toString(CLASS_SPACE), name)) {
                String opened = child.awaitPrefix("OPENED ", Duration.ofMinutes(1));
                assertThat(opened).as("the child, with [0x%x, 0x%x) reserved as an aarch64 JVM's class space; stderr %s",
                    boundary, boundary + CLASS_SPACE, child.stderr()).isEqualTo("base=0x" + Long.toHexString(r.baseAddress()) + " direct=true");
                assertThat(child.awaitExit(Duration.ofMinutes(1))).isZero();
            }
        }
    }

    /** Reserves [args[0] (hex), + args[1]) as a JVM's class space would be, then opens region args[2]. */
    public static final class ClassSpaceChild {
        public static void main(String[] args) throws Throwable {
            long at = Long.parseUnsignedLong(args[0], 16);
            long size = Long.parseLong(args[1]);
            Linker linker = Linker.nativeLinker();
            MethodHandle mmap = linker.downcallHandle(linker.defaultLookup().find("mmap").orElseThrow(), FunctionDescriptor.of(
                ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                ValueLayout.JAVA_LONG));
            // PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE (the same values on x86_64 and aarch64)
            MemorySegment got = (MemorySegment) mmap.invokeExact(MemorySegment.ofAddress(at), size, 0, 0x02 | 0x20 | 0x4000 | 0x100000, -1, 0L);
            if (got.address() != at) {
                throw new IllegalStateException("could not reserve 0x" + Long.toHexString(at) + ": mmap gave 0x" + Long.toHexString(got.address()));
            }
            try (SharedRegion r = SharedRegion.open(args[2])) {
                System.out.println("OPENED base=0x" + Long.toHexString(r.baseAddress()) + " direct=" + !r.isOffsetFallback());
            }
        }
    }
}
