package dev.panmap.internal.posix;

import dev.panmap.internal.Platform;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Who holds an open-file-description lock. {@code F_OFD_GETLK} says that a byte is locked and how,
 * but not by whom (such a lock belongs to an open file description, and its {@code l_pid} is -1; so
 * is {@code /proc/locks}'s pid). The kernel lists each description's locks in
 * {@code /proc/PID/fdinfo/FD} ({@code lock: 1: OFDLCK ADVISORY READ -1 fe:00:9978112 START END}):
 * this reads those of the descriptors that name the object (same device and inode), in every process
 * this one may look at. A process of another pid namespace, or of another user when this one is not
 * root, is not seen: its locks stay without a pid.
 */
final class LockOwners {
    private LockOwners() {}

    /**
     * {@return the locks on {@code [offset, offset + count)} of the object {@code (device, inode)}, by
     * process, as {offset, exclusive 1/0, pid}}, but those of this process's descriptor {@code selfFd}
     */
    static List<long[]> scan(long device, long inode, long offset, long count, int selfPid, int selfFd) {
        String object = Flags.deviceText(device) + ":" + inode;
        List<long[]> found = new ArrayList<>();
        try (DirectoryStream<Path> processes = Files.newDirectoryStream(Path.of("/proc"), p -> isNumber(p.getFileName().toString()))) {
            for (Path process : processes) {
                int pid = Integer.parseInt(process.getFileName().toString());
                try (DirectoryStream<Path> fds = Files.newDirectoryStream(process.resolve("fd"))) {
                    for (Path fd : fds) {
                        if ((pid != selfPid || !fd.getFileName().toString().equals(Integer.toString(selfFd))) && names(fd, device, inode)) {
                            read(process.resolve("fdinfo").resolve(fd.getFileName()), object, pid, offset, count, found);
                        }
                    }
                } catch (IOException | SecurityException e) {
                    // gone, or not ours to look at
                }
            }
        } catch (IOException e) {
            return found;
        }
        found.sort(java.util.Comparator.<long[]>comparingLong(l -> l[0]).thenComparingLong(l -> l[2]));
        return dedupe(found);
    }

    private static boolean isNumber(String name) {
        return !name.isEmpty() && name.chars().allMatch(Character::isDigit);
    }

    /** {@return whether the descriptor {@code /proc/PID/fd/N} is open on the object} (stat through the link) */
    private static boolean names(Path fd, long device, long inode) {
        try {
            Map<String, Object> a = Files.readAttributes(fd, "unix:dev,ino");
            return ((Number) a.get("dev")).longValue() == device && ((Number) a.get("ino")).longValue() == inode;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private static void read(Path fdinfo, String object, int pid, long offset, long count, List<long[]> found) {
        List<String> lines;
        try {
            lines = Files.readAllLines(fdinfo);
        } catch (IOException e) {
            return;
        }
        for (String line : lines) {
            if (!line.startsWith("lock:") || line.contains("->")) { // "->": a waiter, not a holder
                continue;
            }
            String[] f = line.substring(5).trim().split("\\s+"); // 1: OFDLCK ADVISORY READ -1 fe:00:9978112 START END
            if (f.length < 8 || !f[5].equals(object)) {
                continue;
            }
            long start = Long.parseLong(f[6]);
            long end = f[7].equals("EOF") ? Long.MAX_VALUE : Long.parseLong(f[7]);
            for (long at = Math.max(start, offset); at <= end && at < offset + count; at++) {
                found.add(new long[] {at, f[3].equals("WRITE") ? 1 : 0, pid});
            }
        }
    }

    private static List<long[]> dedupe(List<long[]> sorted) {
        List<long[]> out = new ArrayList<>();
        for (long[] l : sorted) {
            if (out.isEmpty() || out.getLast()[0] != l[0] || out.getLast()[2] != l[2]) {
                out.add(l);
            }
        }
        return out;
    }

    /**
     * {@return the locks other descriptions hold on {@code [offset, offset + count)} of the open
     * descriptor {@code n}}: {@code F_OFD_GETLK} per byte, then, for the bytes it found locked by a
     * description (pid -1), the holders from {@link #scan}
     */
    static List<Platform.ByteLock> held(int n, long offset, long count, int selfPid) {
        List<Platform.ByteLock> conflicts = new ArrayList<>();
        boolean anonymous = false;
        for (long at = offset; at < offset + count; at++) {
            Posix.LockConflict c = Posix.ofdGetLock(n, at, 1);
            if (c.type() != dev.panmap.internal.generated.linux.Libc.F_UNLCK()) {
                conflicts.add(new Platform.ByteLock(at, c.type() == dev.panmap.internal.generated.linux.Libc.F_WRLCK(), c.pid()));
                anonymous |= c.pid() <= 0;
            }
        }
        if (!anonymous) {
            return conflicts;
        }
        Posix.FileStatus st = Posix.fstat(n);
        List<long[]> owners = scan(st.device(), st.inode(), offset, count, selfPid, n);
        List<Platform.ByteLock> out = new ArrayList<>();
        for (Platform.ByteLock c : conflicts) {
            if (c.pid() > 0) {
                out.add(c);
                continue;
            }
            boolean seen = false;
            for (long[] o : owners) {
                if (o[0] == c.offset()) {
                    out.add(new Platform.ByteLock(c.offset(), o[1] == 1, (int) o[2]));
                    seen = true;
                }
            }
            if (!seen) {
                out.add(new Platform.ByteLock(c.offset(), c.exclusive(), -1));
            }
        }
        return out;
    }
}
