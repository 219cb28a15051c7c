package dev.panmap;

/**
 * A native call failed. Carries the function, the arguments that matter, the native error code
 * ({@code errno} on POSIX, {@code GetLastError()} on Windows), its symbolic name and message, and a
 * portable {@link ErrorKind}. The message reads like the call:
 * {@code shm_open("/orders", O_RDWR|O_CREAT|O_EXCL, 0600) failed: EEXIST (File exists)}.
 */
public final class NativeException extends RegionException {
    private static final long serialVersionUID = 1L;

    /** The native function, e.g. {@code shm_open}. */
    private final String function;
    /** The arguments as they would be written in C, without parentheses. */
    private final String arguments;
    /** The native error code. */
    private final int errorCode;
    /** Its symbolic name, e.g. {@code EEXIST}. */
    private final String errorName;
    /** The operating system's text for it. */
    private final String errorMessage;

    /**
     * A failed call, with its message written from the parts.
     *
     * @param kind         the portable kind
     * @param function     the native function, e.g. {@code shm_open}
     * @param arguments    the arguments as they would be written in C, without parentheses
     * @param errorCode    the native error code
     * @param errorName    its symbolic name, e.g. {@code EEXIST}
     * @param errorMessage the operating system's text for it
     */
    public NativeException(ErrorKind kind, String function, String arguments, int errorCode,
                           String errorName, String errorMessage) {
        super(kind, function + "(" + arguments + ") failed: " + errorName + " (" + errorMessage + ")");
        this.function = function;
        this.arguments = arguments;
        this.errorCode = errorCode;
        this.errorName = errorName;
        this.errorMessage = errorMessage;
    }

    /** {@return the native function that failed} */
    public String function() {
        return function;
    }

    /** {@return the arguments of the failed call, written as in C} */
    public String arguments() {
        return arguments;
    }

    /** {@return the native error code (errno or GetLastError)} */
    public int errorCode() {
        return errorCode;
    }

    /** {@return the symbolic name of the native error code, e.g. {@code EEXIST}} */
    public String errorName() {
        return errorName;
    }

    /** {@return the operating system's description of the native error} */
    public String errorMessage() {
        return errorMessage;
    }
}
