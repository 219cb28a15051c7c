package dev.panmap.internal.windows;

import static dev.panmap.internal.generated.windows.Win32.*;

import dev.panmap.ErrorKind;
import java.util.HashMap;
import java.util.Map;

/** Symbolic names and portable kinds of the {@code GetLastError} codes panmap meets, from the generated constants. */
final class WinError {
    private WinError() {}

    private static final Map<Integer, String> NAMES = new HashMap<>();
    private static final Map<Integer, ErrorKind> KINDS = new HashMap<>();

    private static void add(int value, String name, ErrorKind kind) {
        NAMES.put(value, name);
        KINDS.put(value, kind);
    }

    static {
        add(ERROR_FILE_NOT_FOUND(), "ERROR_FILE_NOT_FOUND", ErrorKind.NOT_FOUND);
        add(ERROR_PATH_NOT_FOUND(), "ERROR_PATH_NOT_FOUND", ErrorKind.NOT_FOUND);
        add(ERROR_TOO_MANY_OPEN_FILES(), "ERROR_TOO_MANY_OPEN_FILES", ErrorKind.LIMIT_REACHED);
        add(ERROR_ACCESS_DENIED(), "ERROR_ACCESS_DENIED", ErrorKind.PERMISSION_DENIED);
        add(ERROR_INVALID_HANDLE(), "ERROR_INVALID_HANDLE", ErrorKind.INVALID_ARGUMENT);
        add(ERROR_NOT_ENOUGH_MEMORY(), "ERROR_NOT_ENOUGH_MEMORY", ErrorKind.NO_MEMORY);
        add(ERROR_OUTOFMEMORY(), "ERROR_OUTOFMEMORY", ErrorKind.NO_MEMORY);
        add(ERROR_WRITE_PROTECT(), "ERROR_WRITE_PROTECT", ErrorKind.PERMISSION_DENIED);
        add(ERROR_SHARING_VIOLATION(), "ERROR_SHARING_VIOLATION", ErrorKind.WOULD_BLOCK);
        add(ERROR_LOCK_VIOLATION(), "ERROR_LOCK_VIOLATION", ErrorKind.WOULD_BLOCK);
        add(ERROR_HANDLE_DISK_FULL(), "ERROR_HANDLE_DISK_FULL", ErrorKind.NO_SPACE);
        add(ERROR_NOT_SUPPORTED(), "ERROR_NOT_SUPPORTED", ErrorKind.NOT_SUPPORTED);
        add(ERROR_FILE_EXISTS(), "ERROR_FILE_EXISTS", ErrorKind.ALREADY_EXISTS);
        add(ERROR_INVALID_PARAMETER(), "ERROR_INVALID_PARAMETER", ErrorKind.INVALID_ARGUMENT);
        add(ERROR_DISK_FULL(), "ERROR_DISK_FULL", ErrorKind.NO_SPACE);
        add(ERROR_INVALID_NAME(), "ERROR_INVALID_NAME", ErrorKind.INVALID_ARGUMENT);
        add(ERROR_NOT_LOCKED(), "ERROR_NOT_LOCKED", ErrorKind.INVALID_ARGUMENT);
        add(ERROR_BAD_PATHNAME(), "ERROR_BAD_PATHNAME", ErrorKind.INVALID_ARGUMENT);
        add(ERROR_ALREADY_EXISTS(), "ERROR_ALREADY_EXISTS", ErrorKind.ALREADY_EXISTS);
        add(ERROR_FILENAME_EXCED_RANGE(), "ERROR_FILENAME_EXCED_RANGE", ErrorKind.INVALID_ARGUMENT);
        add(ERROR_NOT_OWNER(), "ERROR_NOT_OWNER", ErrorKind.OTHER);
        add(ERROR_INVALID_ADDRESS(), "ERROR_INVALID_ADDRESS", ErrorKind.ADDRESS_IN_USE);
        add(ERROR_MAPPED_ALIGNMENT(), "ERROR_MAPPED_ALIGNMENT", ErrorKind.INVALID_ARGUMENT);
        add(ERROR_USER_MAPPED_FILE(), "ERROR_USER_MAPPED_FILE", ErrorKind.WOULD_BLOCK);
        add(ERROR_NO_SYSTEM_RESOURCES(), "ERROR_NO_SYSTEM_RESOURCES", ErrorKind.NO_MEMORY);
        add(ERROR_WORKING_SET_QUOTA(), "ERROR_WORKING_SET_QUOTA", ErrorKind.NO_MEMORY);
        add(ERROR_COMMITMENT_LIMIT(), "ERROR_COMMITMENT_LIMIT", ErrorKind.NO_MEMORY);
    }

    /** {@return the symbolic name, e.g. {@code ERROR_ALREADY_EXISTS}, or {@code error N} for one not in the table} */
    static String name(int code) {
        return NAMES.getOrDefault(code, "error " + code);
    }

    /** {@return the portable kind of a GetLastError code} */
    static ErrorKind kind(int code) {
        return KINDS.getOrDefault(code, ErrorKind.OTHER);
    }
}
