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
        this.socket = new PosixPlatform.Fd(bindPrivately(Path.of(path), permissions), "socket \"" + path + "\"");
    }

    /**
     * A listening socket that appears at {@code path} with exactly {@code permissions}, whatever the
     * umask, and is never reachable with another mode: it is bound in a new directory beside
     * {@code path} that only this user can enter (mode 0700: nobody else can connect there, nor plant
     * a link in it), given its mode there, and then linked to {@code path} with {@code link(2)}, which
     * neither replaces what is at {@code path} nor follows a link there; the private name is then
     * removed. (Not a chmod of {@code path}: that would follow a link swapped in, and bind-then-chmod
     * leaves the socket briefly with the mode the umask gives.) A socket of this user at {@code path}
     * that nobody listens on (left by a process that died) is replaced; anything else there is
     * {@code ALREADY_EXISTS}.
     */
    private static int bindPrivately(Path path, int permissions) {
        Path parent = path.toAbsolutePath().getParent();
        Path dir = privateDirectory(parent);
        Path temporary = dir.resolve("s");
        try {
            int fd = UnixSockets.listen(temporary.toString());
            try {
                Files.setPosixFilePermissions(temporary, permissionSet(permissions)); // inside dir: nobody else can reach it
                try {
                    Files.createLink(path, temporary);
                } catch (java.nio.file.FileAlreadyExistsException e) {
                    removeStale(path);
                    Files.createLink(path, temporary);
                }
                return fd;
            } catch (IOException | RuntimeException e) {
                Posix.close(fd);
                if (e instanceof java.nio.file.FileAlreadyExistsException) {
                    throw new RegionException(ErrorKind.ALREADY_EXISTS, "link(\"" + temporary + "\", \"" + path
                        + "\") failed: EEXIST (File exists): something was made there meanwhile", e);
                }
                throw e instanceof RuntimeException r ? r : new RegionException(ErrorKind.IO_ERROR, "cannot make the socket " + path
                    + " (bound at " + temporary + ", mode 0" + Integer.toOctalString(permissions) + "): " + e, e);
            }
        } finally {
            try {
                Files.deleteIfExists(temporary);
                Files.deleteIfExists(dir);
            } catch (IOException ignored) {
                // a name in our own 0700 directory: harmless if it stays
            }
        }
    }

    /** {@return a new directory in {@code parent}, mode 0700 (or narrower), with a short name (a socket path holds 107 bytes)} */
    private static Path privateDirectory(Path parent) {
        java.util.random.RandomGenerator random = java.util.concurrent.ThreadLocalRandom.current();
        for (int attempt = 0; ; attempt++) {
            Path dir = parent.resolve(".pm" + Long.toString(random.nextLong(1L << 30, 1L << 35), 36));
            try {
                return Files.createDirectory(dir, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(permissionSet(0700)));
            } catch (java.nio.file.FileAlreadyExistsException e) {
                if (attempt >= 100) {
                    throw new RegionException(ErrorKind.ALREADY_EXISTS, "cannot make a private directory in " + parent + ": " + e, e);
                }
            } catch (java.nio.file.AccessDeniedException e) {
                throw Posix.failure("mkdir", '"' + dir.toString() + "\", 0700", EACCES());
            } catch (IOException e) {
                throw new RegionException(ErrorKind.IO_ERROR, "mkdir(\"" + dir + "\", 0700) failed: " + e, e);
            }
        }
    }

    /**
     * Removes what is at {@code path} if it is a socket of this user that nobody listens on (one a
     * killed process left); else {@code ALREADY_EXISTS}, saying what is there.
     */
    private static void removeStale(Path path) {
        java.util.Map<String, Object> a;
        try {
            a = Files.readAttributes(path, "unix:mode,uid", java.nio.file.LinkOption.NOFOLLOW_LINKS);
        } catch (java.nio.file.NoSuchFileException gone) {
            return; // removed meanwhile: the link is tried again
        } catch (IOException e) {
            throw new RegionException(ErrorKind.ALREADY_EXISTS, path + " exists and cannot be examined: " + e, e);
        }
        int mode = (Integer) a.get("mode");
        int uid = (Integer) a.get("uid");
        int self = Memfd.geteuid();
        if ((mode & S_IFMT()) != S_IFSOCK()) {
            throw new RegionException(ErrorKind.ALREADY_EXISTS, path + " exists and is not a socket: it is left as it is");
        }
        if (uid != self) {
            throw new RegionException(ErrorKind.ALREADY_EXISTS, path + " exists, a socket of uid " + uid
                + " (this process is uid " + self + "): another user's, left as it is");
        }
        if (UnixSockets.listening(path.toString())) {
            throw new RegionException(ErrorKind.ALREADY_EXISTS, path + " exists, and a process listens on it");
        }
        try {
            Files.deleteIfExists(path); // ours, and dead: a stale socket (unlink: a name, never what a link points at)
        } catch (IOException e) {
            throw new RegionException(ErrorKind.ALREADY_EXISTS, path + " is a stale socket of this user and cannot be removed: " + e, e);
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
        int self = Memfd.geteuid();
        if (s.uid() != self && s.uid() != 0) { // before anything it said is shown: its words are not to be trusted either
            if (r.fd() >= 0) {
                Posix.close(r.fd());
            }
            throw new RegionException(ErrorKind.PERMISSION_DENIED, "the process at " + path + " (pid " + s.pid() + ") runs as uid "
                + s.uid() + ": a region, or a word, is taken only from this user (uid " + self + ") or root; what it sent is not shown");
        }
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
