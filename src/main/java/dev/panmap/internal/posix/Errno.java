package dev.panmap.internal.posix;

import static dev.panmap.internal.generated.linux.Libc.*;

import dev.panmap.ErrorKind;
import java.util.HashMap;
import java.util.Map;

/** Symbolic names and portable kinds of the errno values panmap meets, from the generated constants. */
final class Errno {
    private Errno() {}

    private static final Map<Integer, String> NAMES = new HashMap<>();
    private static final Map<Integer, ErrorKind> KINDS = new HashMap<>();

    private static void add(int value, String name, ErrorKind kind) {
        NAMES.putIfAbsent(value, name);
        KINDS.putIfAbsent(value, kind);
    }

    static {
        add(EPERM(), "EPERM", ErrorKind.PERMISSION_DENIED);
        add(ENOENT(), "ENOENT", ErrorKind.NOT_FOUND);
        add(ESRCH(), "ESRCH", ErrorKind.NOT_FOUND);
        add(EINTR(), "EINTR", ErrorKind.OTHER);
        add(EIO(), "EIO", ErrorKind.IO_ERROR);
        add(ENXIO(), "ENXIO", ErrorKind.NOT_FOUND);
        add(EBADF(), "EBADF", ErrorKind.INVALID_ARGUMENT);
        add(EAGAIN(), "EAGAIN", ErrorKind.WOULD_BLOCK);
        add(ENOMEM(), "ENOMEM", ErrorKind.NO_MEMORY);
        add(EACCES(), "EACCES", ErrorKind.PERMISSION_DENIED);
        add(EFAULT(), "EFAULT", ErrorKind.INVALID_ARGUMENT);
        add(EBUSY(), "EBUSY", ErrorKind.WOULD_BLOCK);
        add(EEXIST(), "EEXIST", ErrorKind.ALREADY_EXISTS);
        add(ENODEV(), "ENODEV", ErrorKind.NOT_SUPPORTED);
        add(ENOTDIR(), "ENOTDIR", ErrorKind.NOT_FOUND);
        add(EISDIR(), "EISDIR", ErrorKind.INVALID_ARGUMENT);
        add(EINVAL(), "EINVAL", ErrorKind.INVALID_ARGUMENT);
        add(ENFILE(), "ENFILE", ErrorKind.LIMIT_REACHED);
        add(EMFILE(), "EMFILE", ErrorKind.LIMIT_REACHED);
        add(ETXTBSY(), "ETXTBSY", ErrorKind.WOULD_BLOCK);
        add(EFBIG(), "EFBIG", ErrorKind.NO_SPACE);
        add(ENOSPC(), "ENOSPC", ErrorKind.NO_SPACE);
        add(ESPIPE(), "ESPIPE", ErrorKind.INVALID_ARGUMENT);
        add(EROFS(), "EROFS", ErrorKind.PERMISSION_DENIED);
        add(EDEADLK(), "EDEADLK", ErrorKind.WOULD_BLOCK);
        add(ENAMETOOLONG(), "ENAMETOOLONG", ErrorKind.INVALID_ARGUMENT);
        add(ENOLCK(), "ENOLCK", ErrorKind.LIMIT_REACHED);
        add(ENOSYS(), "ENOSYS", ErrorKind.NOT_SUPPORTED);
        add(ELOOP(), "ELOOP", ErrorKind.INVALID_ARGUMENT);
        add(EOVERFLOW(), "EOVERFLOW", ErrorKind.INVALID_ARGUMENT);
        add(EOPNOTSUPP(), "EOPNOTSUPP", ErrorKind.NOT_SUPPORTED);
        add(EDQUOT(), "EDQUOT", ErrorKind.NO_SPACE);
    }

    /** {@return the symbolic name, e.g. {@code EEXIST}, or {@code errno N} for one not in the table} */
    static String name(int errno) {
        return NAMES.getOrDefault(errno, "errno " + errno);
    }

    /** {@return the portable kind of an errno value} */
    static ErrorKind kind(int errno) {
        return KINDS.getOrDefault(errno, ErrorKind.OTHER);
    }
}
