package dev.panmap.testing;

import static dev.panmap.internal.generated.linux.Libc.*;

import dev.panmap.internal.generated.linux.Libc;
import dev.panmap.internal.generated.linux.flock;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * What a process with only read access can do to a region's writers (issue 20): it opens the object
 * read-only and takes shared open-file-description locks ({@code F_OFD_SETLK}, {@code F_RDLCK}) on
 * the given bytes: the writer lock's byte, attach slots' bytes. Then it waits for stdin to close.
 *
 * <pre>
 * args: PATH BYTE...      (PATH: /dev/shm/NAME or a region file)
 * prints READ-LOCKED pid=P once it holds them all
 * </pre>
 */
public final class ReadLockChild {
    private ReadLockChild() {}

    public static void main(String[] args) throws Throwable {
        MethodHandle open = Linker.nativeLinker().downcallHandle(Libc.open.address(),
            FunctionDescriptor.of(C_INT, C_POINTER, C_INT, C_INT), Linker.Option.firstVariadicArg(2));
        MethodHandle fcntl = Linker.nativeLinker().downcallHandle(Libc.fcntl.address(),
            FunctionDescriptor.of(C_INT, C_INT, C_INT, C_POINTER), Linker.Option.firstVariadicArg(2));
        try (Arena arena = Arena.ofConfined()) {
            int fd = (int) open.invokeExact(arena.allocateFrom(args[0]), O_RDONLY() | O_CLOEXEC(), 0);
            if (fd < 0) {
                throw new IllegalStateException("cannot open " + args[0] + " read-only");
            }
            MemorySegment fl = arena.allocate(flock.layout());
            for (int i = 1; i < args.length; i++) {
                fl.fill((byte) 0);
                flock.l_type(fl, (short) F_RDLCK());
                flock.l_whence(fl, (short) SEEK_SET());
                flock.l_start(fl, Long.parseLong(args[i]));
                flock.l_len(fl, 1);
                int rc = (int) fcntl.invokeExact(fd, F_OFD_SETLK(), fl);
                if (rc != 0) {
                    throw new IllegalStateException("F_OFD_SETLK F_RDLCK on byte " + args[i] + " failed");
                }
            }
            System.out.println("READ-LOCKED pid=" + ProcessHandle.current().pid());
            while (System.in.read() >= 0) {
                // hold the locks until the parent closes stdin or kills this process
            }
        }
    }
}
