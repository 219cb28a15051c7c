package dev.panmap.internal.posix;

import dev.panmap.internal.generated.linux.Libc;
import dev.panmap.internal.generated.linux.stat;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;

/** Linux x86_64: what {@link LinuxAbi} carries, from {@code dev.panmap.internal.generated.linux}. */
final class X86_64Abi implements LinuxAbi {
    static final X86_64Abi INSTANCE = new X86_64Abi();

    private X86_64Abi() {}

    @Override
    public String arch() {
        return "x86_64";
    }

    @Override
    public MemoryLayout statLayout() {
        return stat.layout();
    }

    @Override
    public Posix.FileStatus fileStatus(MemorySegment st) {
        return LinuxAbi.status(stat.st_size(st), stat.st_mode(st), stat.st_uid(st), stat.st_gid(st),
            stat.st_dev(st), stat.st_ino(st), stat.st_nlink(st));
    }

    @Override
    public int oDirectory() {
        return Libc.O_DIRECTORY();
    }

    @Override
    public int oNoFollow() {
        return Libc.O_NOFOLLOW();
    }

    @Override
    public int sysFutex() {
        return Libc.SYS_futex();
    }
}
