package dev.panmap;

/**
 * A lock that a process holds on one of a region's lock bytes, as the system reports it now
 * ({@link SharedRegion#lockHoldings()}; Linux: {@code F_OFD_GETLK}, and the holder's pid from
 * {@code /proc/PID/fdinfo}). A writer holds the writer-lock byte exclusively while it writes, and each
 * writable attached process holds its attach slot's byte exclusively while it is attached. A
 * <em>shared</em> (read) lock on either is not panmap's doing: any process that can open the region
 * for reading can take one, and while it holds it no writer can take the writer lock, and that attach
 * slot cannot be taken (see docs/SECURITY.md).
 *
 * @param slot      the attach slot whose byte is locked, or -1 for the writer lock
 * @param exclusive whether the lock is exclusive (a writer's, or an attached process's); false: a read lock
 * @param pid       the holding process as this process sees it, or -1 where the system does not say (a
 *                  process of another pid namespace, or of another user while this one is not root)
 */
public record LockHolding(int slot, boolean exclusive, int pid) {
    /** {@return whether this is the writer lock's byte} */
    public boolean writerLock() {
        return slot < 0;
    }

    /** {@return e.g. {@code held by writer pid 4242} or {@code blocked by a read lock of pid 4343}} */
    public String describe() {
        String who = pid > 0 ? "pid " + pid : "a process not visible here (another pid namespace, or another user's)";
        if (exclusive) {
            return (writerLock() ? "held by writer " : "held by attached ") + who;
        }
        return "blocked by a read lock of " + who;
    }
}
