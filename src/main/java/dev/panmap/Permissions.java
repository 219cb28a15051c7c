package dev.panmap;

/**
 * The access mode a region is created with, applied exactly, whatever the process's umask.
 * Owner-only ({@code 0600}) unless asked otherwise.
 *
 * @param mode the permission bits, e.g. {@code 0660}
 */
public record Permissions(int mode) {
    /**
     * Checks the bits.
     *
     * @throws IllegalArgumentException for bits outside {@code 0777}
     */
    public Permissions {
        if ((mode & ~0777) != 0) {
            throw new IllegalArgumentException("permissions must be within 0777: mode=0" + Integer.toOctalString(mode));
        }
    }

    /** {@return {@code 0600}: the creating user only} */
    public static Permissions ownerOnly() {
        return new Permissions(0600);
    }

    /** {@return {@code 0660}: the user and the group} */
    public static Permissions ownerAndGroup() {
        return new Permissions(0660);
    }

    /** {@return {@code 0666}: everyone (Boost's {@code set_unrestricted()})} */
    public static Permissions unrestricted() {
        return new Permissions(0666);
    }

    /**
     * {@return permissions from an octal string such as {@code "0640"} or {@code "640"}}
     *
     * @param octal the mode in octal digits
     * @throws IllegalArgumentException if it is not an octal mode within {@code 0777}
     */
    public static Permissions parse(String octal) {
        try {
            return new Permissions(Integer.parseInt(octal, 8));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not an octal mode: \"" + octal + "\"", e);
        }
    }

    @Override
    public String toString() {
        return String.format("0%03o", mode);
    }
}
