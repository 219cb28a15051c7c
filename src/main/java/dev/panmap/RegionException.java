package dev.panmap;

/**
 * A failure of a region operation that is not a misuse of the API: the region is missing, taken,
 * corrupt, incompatible, or the operating system refused. Misuse (a closed region, a bad argument)
 * is reported with {@link IllegalStateException} or {@link IllegalArgumentException} instead.
 */
public class RegionException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** The portable kind of this failure. */
    private final ErrorKind kind;

    /**
     * A failure of this kind.
     *
     * @param kind the portable kind
     * @param message what failed, with what, and why
     */
    public RegionException(ErrorKind kind, String message) {
        this(kind, message, null);
    }

    /**
     * A failure of this kind, caused by another.
     *
     * @param kind the portable kind
     * @param message what failed, with what, and why
     * @param cause what caused it
     */
    public RegionException(ErrorKind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    /** {@return the portable kind of this failure} */
    public ErrorKind kind() {
        return kind;
    }
}
