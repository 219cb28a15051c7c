package dev.panmap;

/**
 * The portable kind of a failure, beside the native error code that caused it
 * (Boost.Interprocess's {@code error_code_t}, for the JVM).
 */
public enum ErrorKind {
    /** The named region, file or path does not exist ({@code ENOENT}). */
    NOT_FOUND,
    /** A region of that name already exists and the open mode asked to create it ({@code EEXIST}). */
    ALREADY_EXISTS,
    /** The operating system refused access ({@code EACCES}, {@code EPERM}, {@code EROFS}). */
    PERMISSION_DENIED,
    /** A fixed base address is taken, or cannot be used for a mapping. */
    ADDRESS_IN_USE,
    /** The file system or the shared-memory file system is full ({@code ENOSPC}, {@code EDQUOT}). */
    NO_SPACE,
    /** Not enough memory or address space, or a memory-lock limit ({@code ENOMEM}, {@code EAGAIN} from mlock). */
    NO_MEMORY,
    /** A process or system limit: open files, a full attach table ({@code EMFILE}, {@code ENFILE}). */
    LIMIT_REACHED,
    /** An argument the operating system or panmap rejected ({@code EINVAL}, {@code ENAMETOOLONG}). */
    INVALID_ARGUMENT,
    /** A lock is held by another process and the call does not wait ({@code EAGAIN}, {@code EWOULDBLOCK}). */
    WOULD_BLOCK,
    /** The operation is not supported here ({@code ENOSYS}, {@code EOPNOTSUPP}, {@code ENODEV}). */
    NOT_SUPPORTED,
    /** The object exists but is not a panmap region, or has another layout version. */
    INCOMPATIBLE_REGION,
    /** The region is a panmap region but truncated or with inconsistent header fields. */
    CORRUPT_REGION,
    /** A low-level I/O error ({@code EIO}). */
    IO_ERROR,
    /** Anything else; the native error code says more. */
    OTHER
}
