package dev.panmap;

import dev.panmap.internal.Platform;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Offers a region to other processes on a Unix domain socket: each process that connects gets the
 * region's descriptor ({@code SCM_RIGHTS}) if it runs as an allowed user ({@code SO_PEERCRED}; this
 * user by default), and attaches with {@link SharedRegion#receive(Path)}. This is how an
 * {@linkplain SharedRegion#createAnonymous anonymous region}, which has no name to open, is shared;
 * a named region can be offered the same way. A process that received the region keeps it when the
 * sender exits: the region lives as long as any process has it.
 *
 * <pre>{@code
 * try (SharedRegion r = SharedRegion.createAnonymous(RegionOptions.defaults().size(1 << 20));
 *      RegionSocket socket = RegionSocket.listen(r, Path.of("/run/app/orders.sock"))) {
 *     socket.handOver(Duration.ofSeconds(30));   // one peer; call again for the next
 * }
 * // the other process
 * try (SharedRegion r = SharedRegion.receive(Path.of("/run/app/orders.sock"))) { ... }
 * }</pre>
 *
 * <p>Linux only: Windows has neither memory files nor descriptor passing ({@code NOT_SUPPORTED}).
 */
public final class RegionSocket implements AutoCloseable {
    private final SharedRegion region;
    private final Platform.Listener listener;

    /**
     * What happened to one process that connected.
     *
     * @param pid the process id of the process that connected
     * @param uid its user id
     * @param granted whether it was handed the region
     * @param refusal why it was refused, or null if it was not
     */
    public record Handover(int pid, int uid, boolean granted, String refusal) {}

    private RegionSocket(SharedRegion region, Platform.Listener listener) {
        this.region = region;
        this.listener = listener;
    }

    /**
     * Listens at {@code path}, mode {@code 0600}, for processes of this user. {@code path} must not
     * exist, but for a socket of this user that nobody listens on any more (one a killed process left),
     * which is replaced; anything else there is {@link ErrorKind#ALREADY_EXISTS}.
     *
     * @param region the region to hand out (an anonymous one, typically)
     * @param path where the socket is made
     * @return the listening socket; close it to stop
     */
    public static RegionSocket listen(SharedRegion region, Path path) {
        Platform platform = region.platform();
        return listen(region, path, Permissions.ownerOnly(), Set.of(platform.currentUid()));
    }

    /**
     * Listens at {@code path} (as {@link #listen(SharedRegion, Path)} says) with exactly {@code socketMode},
     * handing the region only to processes whose uid is in {@code allowedUids}; others may connect (as
     * far as the mode lets them) and are told why they were refused. The socket is reachable at
     * {@code path} only with that mode, whatever the umask: it is bound in a private directory beside
     * it and linked there (docs/SECURITY.md §3).
     *
     * @param region the region to hand out (an anonymous one, typically)
     * @param path where the socket is made
     * @param socketMode the socket file's mode
     * @param allowedUids the users whose processes get the region
     * @return the listening socket; close it to stop
     */
    public static RegionSocket listen(SharedRegion region, Path path, Permissions socketMode, Set<Integer> allowedUids) {
        Objects.requireNonNull(region, "region");
        region.checkOpen();
        Platform.Listener l = region.platform().listen(path.toAbsolutePath().toString(), socketMode.mode(), allowedUids);
        return new RegionSocket(region, l);
    }

    /**
     * Waits up to {@code timeout} for one process to connect, and hands it the region or refuses it.
     *
     * @return what was done, or empty if no process connected in time
     * @param timeout the longest wait for a process to connect
     */
    public Optional<Handover> handOver(Duration timeout) {
        Platform.Peer p = listener.handOver(region.handle(), region.name(), timeout);
        return p == null ? Optional.empty() : Optional.of(new Handover(p.pid(), p.uid(), p.granted(), p.reason()));
    }

    /** {@return the socket's path} */
    public Path path() {
        return Path.of(listener.path());
    }

    /** Stops listening and removes the socket file; the region and those who received it are untouched. */
    @Override
    public void close() {
        listener.close();
    }
}
