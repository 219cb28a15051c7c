package dev.panmap.internal.posix;

import static dev.panmap.internal.generated.linux.Libc.*;
import static dev.panmap.internal.posix.Posix.SCRATCH;
import static dev.panmap.internal.posix.Posix.capturing;
import static dev.panmap.internal.posix.Posix.check;
import static dev.panmap.internal.posix.Posix.errno;
import static dev.panmap.internal.posix.Posix.failure;
import static dev.panmap.internal.posix.Posix.unexpected;

import dev.panmap.ErrorKind;
import dev.panmap.RegionException;
import dev.panmap.internal.generated.linux.cmsghdr;
import dev.panmap.internal.generated.linux.iovec;
import dev.panmap.internal.generated.linux.msghdr;
import dev.panmap.internal.generated.linux.sockaddr_un;
import dev.panmap.internal.generated.linux.ucred;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.locks.LockSupport;

/**
 * Handing a file descriptor to another process over a Unix domain socket: a {@code SOCK_SEQPACKET}
 * socket, one message per hand-over, the descriptor in an {@code SCM_RIGHTS} control message and
 * each side's credentials read with {@code SO_PEERCRED}. Both ends are non-blocking and poll with
 * short pauses, so every wait is bounded by a deadline without {@code poll(2)}.
 *
 * <p>A message is a status byte ({@link #GRANTED} or {@link #REFUSED}) and UTF-8 text: the
 * region's name when granted (with the descriptor), the reason when refused (without).
 *
 * <p>The control-message macros ({@code CMSG_SPACE}, {@code CMSG_LEN}, {@code CMSG_DATA}) are not
 * functions: they are computed here from {@code cmsghdr.layout()}, aligned to 8 bytes as glibc's
 * {@code CMSG_ALIGN} does on x86_64.
 */
public final class UnixSockets {
    private UnixSockets() {}

    public static final byte GRANTED = 'R';
    public static final byte REFUSED = 'X';
    private static final int MAX_MESSAGE = 4096;

    private static final MethodHandle SOCKET = capturing(socket$address(), socket$descriptor());
    private static final MethodHandle BIND = capturing(bind$address(), bind$descriptor());
    private static final MethodHandle LISTEN = capturing(listen$address(), listen$descriptor());
    private static final MethodHandle ACCEPT = capturing(accept$address(), accept$descriptor());
    private static final MethodHandle CONNECT = capturing(connect$address(), connect$descriptor());
    private static final MethodHandle SENDMSG = capturing(sendmsg$address(), sendmsg$descriptor());
    private static final MethodHandle RECVMSG = capturing(recvmsg$address(), recvmsg$descriptor());
    private static final MethodHandle GETSOCKOPT = capturing(getsockopt$address(), getsockopt$descriptor());

    /** {@code SOCK_NONBLOCK}: the same bit as {@code O_NONBLOCK} on Linux (asm-generic/fcntl.h). */
    private static final int SOCK_NONBLOCK = O_NONBLOCK();
    /** {@code MSG_CTRUNC} (bits/socket.h: 0x08), not in the bindings; only read back from {@code msg_flags}. */
    private static final int MSG_CTRUNC = 0x08;
    private static final long POLL_PAUSE_NANOS = 200_000;

    // ---------------------------------------------------------------- CMSG_* as glibc defines them

    private static long cmsgAlign(long length) {
        return (length + 7) & ~7L;
    }

    /** {@code CMSG_LEN(n)}: the header, aligned, then {@code n} bytes of data. */
    static long cmsgLen(long dataBytes) {
        return cmsgAlign(cmsghdr.sizeof()) + dataBytes;
    }

    /** {@code CMSG_SPACE(n)}: what one control message of {@code n} data bytes takes in the buffer. */
    static long cmsgSpace(long dataBytes) {
        return cmsgAlign(cmsghdr.sizeof()) + cmsgAlign(dataBytes);
    }

    /** The peer of a connected socket as the kernel recorded it at {@code connect}/{@code listen}. */
    public record Credentials(int pid, int uid, int gid) {}

    /** One accepted connection: its descriptor (blocking) and who is at the other end. */
    public record Connection(int fd, Credentials peer) {}

    /** What a receiver got: the descriptor (-1 when refused), the status and the text, and who sent it. */
    public record Received(int fd, byte status, String text, Credentials sender) {}

    private static int socket(int type) {
        Posix.Scratch s = SCRATCH.get();
        int fd;
        try {
            fd = (int) SOCKET.invokeExact(s.errno, AF_UNIX(), type, 0);
        } catch (Throwable t) {
            throw unexpected("socket", t);
        }
        if (fd < 0) {
            throw failure("socket", "AF_UNIX, SOCK_SEQPACKET|SOCK_CLOEXEC|SOCK_NONBLOCK, 0", errno(s));
        }
        return fd;
    }

    private static MemorySegment address(Arena arena, String path) {
        byte[] bytes = path.getBytes(StandardCharsets.UTF_8);
        long room = sockaddr_un.sun_path$layout().byteSize();
        if (bytes.length >= room) {
            throw new RegionException(ErrorKind.INVALID_ARGUMENT, "socket path " + path + " is " + bytes.length
                + " bytes; a Unix socket path holds at most " + (room - 1));
        }
        MemorySegment sa = arena.allocate(sockaddr_un.layout());
        sockaddr_un.sun_family(sa, (short) AF_UNIX());
        MemorySegment.copy(bytes, 0, sockaddr_un.sun_path(sa), ValueLayout.JAVA_BYTE, 0, bytes.length);
        return sa;
    }

    /**
     * A listening socket bound to {@code path} (which must not exist), non-blocking, backlog 16.
     * The socket file gets the mode the umask leaves; the caller sets the exact one (see
     * {@code FdListener}: it binds in a directory nobody else can enter).
     */
    public static int listen(String path) {
        int fd = socket(SOCK_SEQPACKET() | SOCK_CLOEXEC() | SOCK_NONBLOCK);
        Posix.Scratch s = SCRATCH.get();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment sa = address(arena, path);
            int rc = (int) BIND.invokeExact(s.errno, fd, sa, (int) sockaddr_un.sizeof());
            check(rc, "bind", fd + ", {AF_UNIX, " + Flags.string(path) + "}", s);
            rc = (int) LISTEN.invokeExact(s.errno, fd, 16);
            check(rc, "listen", fd + ", 16", s);
            return fd;
        } catch (Throwable t) {
            Posix.close(fd);
            throw unexpected("bind", t);
        }
    }

    /**
     * {@return whether a process listens on the socket at {@code path}}: a connection is accepted into
     * its backlog (or the backlog is full); {@code ECONNREFUSED} says that nobody does, a socket file
     * left by a process that died (the connection is closed at once, without a word)
     */
    public static boolean listening(String path) {
        int fd = socket(SOCK_SEQPACKET() | SOCK_CLOEXEC() | SOCK_NONBLOCK);
        Posix.Scratch s = SCRATCH.get();
        try (Arena arena = Arena.ofConfined()) {
            int rc = (int) CONNECT.invokeExact(s.errno, fd, address(arena, path), (int) sockaddr_un.sizeof());
            int errno = rc == 0 ? 0 : errno(s);
            if (errno != 0 && errno != EAGAIN() && errno != ECONNREFUSED()) {
                throw failure("connect", fd + ", {AF_UNIX, " + Flags.string(path) + "}", errno);
            }
            return errno != ECONNREFUSED();
        } catch (dev.panmap.NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("connect", t);
        } finally {
            Posix.close(fd);
        }
    }

    /**
     * Waits until {@code deadlineNanos} ({@link System#nanoTime()}) for a peer to connect.
     *
     * @return the connection, or null if none came in time
     */
    public static Connection accept(int listener, long deadlineNanos) {
        Posix.Scratch s = SCRATCH.get();
        while (true) {
            int fd;
            try {
                fd = (int) ACCEPT.invokeExact(s.errno, listener, MemorySegment.NULL, MemorySegment.NULL);
            } catch (Throwable t) {
                throw unexpected("accept", t);
            }
            if (fd >= 0) {
                try {
                    return new Connection(fd, peerCredentials(fd));
                } catch (RuntimeException e) {
                    Posix.close(fd);
                    throw e;
                }
            }
            int errno = errno(s);
            if (errno != EAGAIN() && errno != EINTR()) {
                throw failure("accept", listener + ", NULL, NULL", errno);
            }
            if (System.nanoTime() - deadlineNanos >= 0) {
                return null;
            }
            LockSupport.parkNanos(POLL_PAUSE_NANOS);
        }
    }

    /** {@code getsockopt(fd, SOL_SOCKET, SO_PEERCRED)}. */
    public static Credentials peerCredentials(int fd) {
        Posix.Scratch s = SCRATCH.get();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cred = arena.allocate(ucred.layout());
            MemorySegment length = arena.allocateFrom(ValueLayout.JAVA_INT, (int) ucred.sizeof());
            int rc = (int) GETSOCKOPT.invokeExact(s.errno, fd, SOL_SOCKET(), SO_PEERCRED(), cred, length);
            check(rc, "getsockopt", fd + ", SOL_SOCKET, SO_PEERCRED", s);
            return new Credentials(ucred.pid(cred), ucred.uid(cred), ucred.gid(cred));
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("getsockopt", t);
        }
    }

    /**
     * Sends one message on a connected socket: {@code status}, {@code text} and, if {@code passFd}
     * is not -1, that descriptor in an {@code SCM_RIGHTS} control message ({@code MSG_NOSIGNAL}: a
     * peer that went away is an {@code EPIPE}, not a signal).
     */
    public static void send(int socket, byte status, String text, int passFd) {
        byte[] body = text.getBytes(StandardCharsets.UTF_8);
        Posix.Scratch s = SCRATCH.get();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment payload = arena.allocate(1 + body.length);
            payload.set(ValueLayout.JAVA_BYTE, 0, status);
            MemorySegment.copy(body, 0, payload, ValueLayout.JAVA_BYTE, 1, body.length);
            MemorySegment iov = arena.allocate(iovec.layout());
            iovec.iov_base(iov, payload);
            iovec.iov_len(iov, payload.byteSize());
            MemorySegment msg = arena.allocate(msghdr.layout());
            msghdr.msg_iov(msg, iov);
            msghdr.msg_iovlen(msg, 1);
            if (passFd >= 0) {
                MemorySegment control = arena.allocate(cmsgSpace(Integer.BYTES), 8);
                cmsghdr.cmsg_len(control, cmsgLen(Integer.BYTES));
                cmsghdr.cmsg_level(control, SOL_SOCKET());
                cmsghdr.cmsg_type(control, SCM_RIGHTS());
                control.set(ValueLayout.JAVA_INT, cmsgAlign(cmsghdr.sizeof()), passFd);
                msghdr.msg_control(msg, control);
                msghdr.msg_controllen(msg, control.byteSize());
            }
            long sent = (long) SENDMSG.invokeExact(s.errno, socket, msg, MSG_NOSIGNAL());
            if (sent < 0) {
                throw failure("sendmsg", socket + ", {1 + " + body.length + " bytes" + (passFd >= 0 ? ", SCM_RIGHTS [" + passFd + "]" : "")
                    + "}, MSG_NOSIGNAL", errno(s));
            }
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("sendmsg", t);
        }
    }

    /**
     * Connects to the socket at {@code path} and waits until {@code deadlineNanos} for one message
     * ({@code MSG_CMSG_CLOEXEC}: the descriptor arrives close-on-exec). Descriptors beyond the first,
     * which no panmap sender passes, are closed at once.
     */
    public static Received receive(String path, long deadlineNanos) {
        int fd = socket(SOCK_SEQPACKET() | SOCK_CLOEXEC() | SOCK_NONBLOCK);
        Posix.Scratch s = SCRATCH.get();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment sa = address(arena, path);
            while (true) {
                int rc = (int) CONNECT.invokeExact(s.errno, fd, sa, (int) sockaddr_un.sizeof());
                if (rc == 0) {
                    break;
                }
                int errno = errno(s);
                if (errno != EAGAIN() || System.nanoTime() - deadlineNanos >= 0) { // EAGAIN: the backlog is full
                    throw failure("connect", fd + ", {AF_UNIX, " + Flags.string(path) + "}", errno);
                }
                LockSupport.parkNanos(POLL_PAUSE_NANOS);
            }
            Credentials sender = peerCredentials(fd);
            MemorySegment payload = arena.allocate(MAX_MESSAGE);
            MemorySegment iov = arena.allocate(iovec.layout());
            iovec.iov_base(iov, payload);
            iovec.iov_len(iov, payload.byteSize());
            long controlSize = cmsgSpace(Integer.BYTES * 8L);
            MemorySegment control = arena.allocate(controlSize, 8);
            MemorySegment msg = arena.allocate(msghdr.layout());
            while (true) {
                msghdr.msg_iov(msg, iov);
                msghdr.msg_iovlen(msg, 1);
                msghdr.msg_control(msg, control);
                msghdr.msg_controllen(msg, controlSize);
                long got = (long) RECVMSG.invokeExact(s.errno, fd, msg, MSG_CMSG_CLOEXEC());
                if (got > 0) {
                    int passed = takeDescriptor(msg, control);
                    byte status = payload.get(ValueLayout.JAVA_BYTE, 0);
                    String text = new String(payload.asSlice(1, got - 1).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
                    return new Received(passed, status, text, sender);
                }
                if (got == 0) {
                    throw new RegionException(ErrorKind.NOT_FOUND, "the process at " + path + " (pid " + sender.pid()
                        + ") closed the connection without handing over a region");
                }
                int errno = errno(s);
                if (errno != EAGAIN() && errno != EINTR()) {
                    throw failure("recvmsg", fd + ", {" + MAX_MESSAGE + " bytes, " + controlSize + " bytes of control}, MSG_CMSG_CLOEXEC", errno);
                }
                if (System.nanoTime() - deadlineNanos >= 0) {
                    throw new RegionException(ErrorKind.WOULD_BLOCK, "the process at " + path + " (pid " + sender.pid()
                        + ") accepted the connection but handed nothing over in time");
                }
                LockSupport.parkNanos(POLL_PAUSE_NANOS);
            }
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("recvmsg", t);
        } finally {
            Posix.close(fd);
        }
    }

    /** {@return the first descriptor of the SCM_RIGHTS messages received, or -1}; closes any others */
    private static int takeDescriptor(MemorySegment msg, MemorySegment control) {
        long length = msghdr.msg_controllen(msg);
        long header = cmsgAlign(cmsghdr.sizeof());
        int first = -1;
        for (long at = 0; at + header <= length; ) {
            MemorySegment c = control.asSlice(at);
            long cmsgLen = cmsghdr.cmsg_len(c);
            if (cmsgLen < header || at + cmsgLen > length) {
                break;
            }
            if (cmsghdr.cmsg_level(c) == SOL_SOCKET() && cmsghdr.cmsg_type(c) == SCM_RIGHTS()) {
                for (long d = header; d + Integer.BYTES <= cmsgLen; d += Integer.BYTES) {
                    int fd = c.get(ValueLayout.JAVA_INT, d);
                    if (first < 0) {
                        first = fd;
                    } else {
                        Posix.close(fd);
                    }
                }
            }
            at += cmsgAlign(cmsgLen);
        }
        if ((msghdr.msg_flags(msg) & MSG_CTRUNC) != 0 && first < 0) {
            throw new RegionException(ErrorKind.INVALID_ARGUMENT, "the descriptor did not fit the control buffer (MSG_CTRUNC)");
        }
        return first;
    }
}
