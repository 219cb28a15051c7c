package dev.panmap;

/**
 * A process recorded in a region: an attached process or the writer-lock holder.
 *
 * @param pid       its process id
 * @param startTime its start time in the system's unit (Linux: clock ticks since boot); with the pid
 *                  it tells a live process from a later one that reused the pid
 * @param alive     whether that very process was alive when this was read
 */
public record ProcessInfo(int pid, long startTime, boolean alive) {}
