package dev.panmap.internal.posix;

import dev.panmap.internal.generated.linux_aarch64.Libc;
import dev.panmap.internal.generated.linux_aarch64.stat;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;

/** Linux aarch64: what {@link LinuxAbi} carries, from {@code dev.panmap.internal.generated.linux_aarch64}. */
final class Aarch64Abi implements LinuxAbi {
    static final Aarch64Abi INSTANCE = new Aarch64Abi();

    private Aarch64Abi() {}

    @Override
    public String arch() {
        return "aarch64";
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
