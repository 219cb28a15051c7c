package dev.panmap.internal.posix;

import static dev.panmap.internal.generated.linux.Libc.*;

import dev.panmap.ErrorKind;
import dev.panmap.RegionException;
import dev.panmap.internal.Platform;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Set;

/**
 * A Unix socket that hands a region's descriptor to each process that connects and runs as an
 * allowed user ({@code SO_PEERCRED}); a refused process is told why. See {@link UnixSockets}.
 */
final class FdListener implements Platform.Listener {
    private final String path;
    private final PosixPlatform.Fd socket;
    private final Set<Integer> allowedUids;

    FdListener(String path, int permissions, Set<Integer> allowedUids) {
        this.path = path;
        this.allowedUids = Set.copyOf(allowedUids);
        this.socket = new PosixPlatform.Fd(UnixSockets.listen(path), "socket \"" + path + "\"");
        try {
            Files.setPosixFilePermissions(Path.of(path), permissionSet(permissions));
        } catch (IOException | RuntimeException e) {
            close();
            throw new RegionException(ErrorKind.IO_ERROR, "chmod(\"" + path + "\", 0" + Integer.toOctalString(permissions) + ") failed: " + e, e);
        }
    }

    private static Set<PosixFilePermission> permissionSet(int mode) {
        Set<PosixFilePermission> set = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] bits = PosixFilePermission.values(); // OWNER_READ .. OTHERS_EXECUTE, high bit first
        for (int i = 0; i < bits.length; i++) {
            if ((mode & (1 << (8 - i))) != 0) {
                set.add(bits[i]);
            }
        }
        return set;
    }

    @Override
    public String path() {
        return path;
    }

    @Override
    public Platform.Peer handOver(Platform.Handle handle, String name, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        int listening = socket.use();
        UnixSockets.Connection c;
        try {
            c = UnixSockets.accept(listening, deadline);
        } finally {
            socket.release();
        }
        if (c == null) {
            return null;
        }
        try {
            UnixSockets.Credentials peer = c.peer();
            if (!allowedUids.contains(peer.uid())) {
                String reason = "pid " + peer.pid() + " runs as uid " + peer.uid() + "; " + name + " is handed only to uid"
                    + (allowedUids.size() == 1 ? " " : "s ") + allowedUids.stream().sorted().map(String::valueOf).reduce((a, b) -> a + ", " + b).orElse("(none)");
                UnixSockets.send(c.fd(), UnixSockets.REFUSED, reason, -1);
                return new Platform.Peer(peer.pid(), peer.uid(), peer.gid(), false, reason);
            }
            PosixPlatform.Fd fd = (PosixPlatform.Fd) handle;
            int n = fd.use();
            try {
                UnixSockets.send(c.fd(), UnixSockets.GRANTED, name, n);
            } finally {
                fd.release();
            }
            return new Platform.Peer(peer.pid(), peer.uid(), peer.gid(), true, null);
        } finally {
            Posix.close(c.fd());
        }
    }

    /** Closes the socket and removes its file; idempotent. */
    @Override
    public void close() {
        if (socket.isOpen()) {
            socket.close();
            try {
                Files.deleteIfExists(Path.of(path));
            } catch (IOException ignored) {
                // the name was ours; a later listen there reports EADDRINUSE with the path
            }
        }
    }

    /**
     * The receiving side: connects, checks that the sender runs as this user (or root), and returns the
     * descriptor it passed, which must be a regular file (a memfd is one).
     */
    static Platform.Received receive(String path, Duration timeout, boolean writable) {
        UnixSockets.Received r = UnixSockets.receive(path, System.nanoTime() + timeout.toNanos());
        UnixSockets.Credentials s = r.sender();
        Platform.Peer sender = new Platform.Peer(s.pid(), s.uid(), s.gid(), r.fd() >= 0, r.status() == UnixSockets.REFUSED ? r.text() : null);
        if (r.status() == UnixSockets.REFUSED) {
            throw new RegionException(ErrorKind.PERMISSION_DENIED, "the process at " + path + " (pid " + s.pid() + ", uid " + s.uid()
                + ") refused to hand over its region: " + r.text());
        }
        if (r.fd() < 0 || r.status() != UnixSockets.GRANTED) {
            if (r.fd() >= 0) {
                Posix.close(r.fd());
            }
            throw new RegionException(ErrorKind.INCOMPATIBLE_REGION, "the process at " + path + " (pid " + s.pid()
                + ") sent no region descriptor: not a panmap region socket?");
        }
        PosixPlatform.Fd handle = new PosixPlatform.Fd(r.fd(), "memfd \"" + r.text() + "\" from pid " + s.pid());
        try {
            int self = Memfd.geteuid();
            if (s.uid() != self && s.uid() != 0) {
                throw new RegionException(ErrorKind.PERMISSION_DENIED, "the process at " + path + " (pid " + s.pid() + ") runs as uid "
                    + s.uid() + ": a region is taken only from this user (uid " + self + ") or root");
            }
            Posix.FileStatus st = Posix.fstat(r.fd());
            if (!st.regularFile()) {
                throw new RegionException(ErrorKind.INVALID_ARGUMENT, "the descriptor from pid " + s.pid() + " is not a regular file or memfd");
            }
        } catch (RuntimeException e) {
            handle.close();
            throw e;
        }
        // its own open file description: the writer lock is an OFD lock, and the descriptor passed is
        // the sender's description, whose lock the sender may hold. Reopening through /proc gives a
        // new one on the same memory file.
        int own;
        try {
            own = Posix.open("/proc/self/fd/" + r.fd(), (writable ? O_RDWR() : O_RDONLY()) | O_CLOEXEC(), 0);
        } finally {
            handle.close();
        }
        PosixPlatform.Fd reopened = new PosixPlatform.Fd(own, "memfd \"" + r.text() + "\" from pid " + s.pid());
        try {
            reopened.plan = HugePageSupport.planOf(own);
        } catch (RuntimeException e) {
            reopened.close();
            throw e;
        }
        return new Platform.Received(reopened, r.text(), sender);
    }
}
