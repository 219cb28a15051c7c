package dev.panmap.internal.windows;

import static dev.panmap.internal.generated.windows.Win32.*;

import java.util.StringJoiner;

/** Win32 flag words and arguments written as in C, for messages: {@code PAGE_READWRITE|SEC_COMMIT}. */
final class WinFlags {
    private WinFlags() {}

    static String hex(long address) {
        return "0x" + Long.toHexString(address);
    }

    /** A wide-string argument, quoted like a C literal. */
    static String string(String s) {
        return '"' + s.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }

    static String protect(int protect) {
        StringJoiner out = new StringJoiner("|");
        int page = protect & 0xFF;
        out.add(page == PAGE_READONLY() ? "PAGE_READONLY" : page == PAGE_READWRITE() ? "PAGE_READWRITE"
            : page == PAGE_WRITECOPY() ? "PAGE_WRITECOPY" : page == PAGE_NOACCESS() ? "PAGE_NOACCESS" : "0x" + Integer.toHexString(page));
        if ((protect & SEC_COMMIT()) != 0) {
            out.add("SEC_COMMIT");
        }
        int rest = protect & ~0xFF & ~SEC_COMMIT();
        if (rest != 0) {
            out.add("0x" + Integer.toHexString(rest));
        }
        return out.toString();
    }

    static String viewAccess(int access) {
        StringJoiner out = new StringJoiner("|");
        if ((access & FILE_MAP_READ()) != 0) {
            out.add("FILE_MAP_READ");
        }
        if ((access & FILE_MAP_WRITE()) != 0) {
            out.add("FILE_MAP_WRITE");
        }
        if ((access & FILE_MAP_COPY()) != 0) {
            out.add("FILE_MAP_COPY");
        }
        int rest = access & ~(FILE_MAP_READ() | FILE_MAP_WRITE() | FILE_MAP_COPY());
        if (rest != 0 || out.length() == 0) {
            out.add("0x" + Integer.toHexString(rest));
        }
        return out.toString();
    }

    static String fileAccess(int access) {
        StringJoiner out = new StringJoiner("|");
        if ((access & GENERIC_READ()) != 0) {
            out.add("GENERIC_READ");
        }
        if ((access & GENERIC_WRITE()) != 0) {
            out.add("GENERIC_WRITE");
        }
        return out.length() == 0 ? "0" : out.toString();
    }

    static String share(int share) {
        StringJoiner out = new StringJoiner("|");
        if ((share & FILE_SHARE_READ()) != 0) {
            out.add("FILE_SHARE_READ");
        }
        if ((share & FILE_SHARE_WRITE()) != 0) {
            out.add("FILE_SHARE_WRITE");
        }
        if ((share & FILE_SHARE_DELETE()) != 0) {
            out.add("FILE_SHARE_DELETE");
        }
        return out.length() == 0 ? "0" : out.toString();
    }

    static String disposition(int disposition) {
        return disposition == CREATE_NEW() ? "CREATE_NEW" : disposition == OPEN_EXISTING() ? "OPEN_EXISTING" : Integer.toString(disposition);
    }

    /** {@code VirtualQuery}'s State and Type, for address-range descriptions. */
    static String memory(int state, int type) {
        String s = state == MEM_FREE() ? "MEM_FREE" : state == MEM_RESERVE() ? "MEM_RESERVE" : state == MEM_COMMIT() ? "MEM_COMMIT"
            : "state 0x" + Integer.toHexString(state);
        if (state == MEM_FREE()) {
            return s;
        }
        String t = type == MEM_MAPPED() ? "MEM_MAPPED" : type == MEM_IMAGE() ? "MEM_IMAGE" : type == MEM_PRIVATE() ? "MEM_PRIVATE"
            : "type 0x" + Integer.toHexString(type);
        return s + " " + t;
    }
}
