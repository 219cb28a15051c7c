package dev.panmap.testing;

import dev.panmap.OpenMode;
import dev.panmap.RegionException;
import dev.panmap.RegionOptions;
import dev.panmap.SharedRegion;
import dev.panmap.WriterLock;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.lang.invoke.VarHandle;

/**
 * The other process of the cross-process tests: a child JVM that opens a region and then follows
 * commands read from stdin, one per line, answering on stdout. Commands:
 * <pre>
 * create shm|file NAME OCTAL           -> CREATED mode=OCTAL
 * open shm|file NAME MODE [fallback]   -> OPENED base=HEX addressing=A fallback=B size=N pid=P
 * receive SOCKET MODE                   -> OPENED ... backing=B  (an anonymous region handed over on SOCKET)
 * trylock                               -> LOCKED pid=P | BUSY
 * put OFFSET VALUE                      -> OK              (volatile 8-byte store in the data area)
 * get OFFSET                            -> VALUE N
 * await OFFSET VALUE                    -> SEEN | TIMEOUT  (waits up to 20 s)
 * follow OFFSET                         -> FOLLOWED N      (reads the reference at OFFSET, then the long it points at)
 * storeref AT TARGET                    -> OK              (stores a reference to data offset TARGET at AT)
 * lock | unlock                         -> LOCKED pid=P | UNLOCKED
 * add OFFSET N                          -> ADDED           (N read-modify-writes of OFFSET under the writer lock)
 * mlock                                 -> MLOCKED          (locks the mapping into RAM)
 * maps                                  -> MAPS LINE       (the /proc/self/maps line of the region base)
 * grow SIZE                             -> GROWN size=N gen=G
 * size                                  -> SIZE size=N gen=G base=HEX  (segment(): maps what another process grew)
 * attached                              -> ATTACHED pid:alive ...      (the attach table as this process reads it)
 * holder                                -> HOLDER pid:alive | HOLDER none
 * close | exit
 * </pre>
 */
public final class RegionChild {
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

    public static void main(String[] args) throws Exception {
        SharedRegion region = null;
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        System.out.println("READY pid=" + ProcessHandle.current().pid());
        for (String line; (line = in.readLine()) != null; ) {
            String[] a = line.trim().split("\\s+");
            try {
                switch (a[0]) {
                    case "open" -> {
                        RegionOptions options = RegionOptions.defaults().allowOffsetFallback(a.length > 4 && a[4].equals("fallback"));
                        OpenMode mode = OpenMode.valueOf(a[3]);
                        region = a[1].equals("file") ? SharedRegion.openFile(Path.of(a[2]), mode, options)
                            : SharedRegion.open(a[2], mode, options);
                        System.out.println("OPENED base=" + Long.toHexString(region.baseAddress()) + " addressing=" + region.addressing()
                            + " fallback=" + region.isOffsetFallback() + " size=" + region.size() + " pid=" + ProcessHandle.current().pid());
                    }
                    case "receive" -> {
                        region = SharedRegion.receive(Path.of(a[1]), OpenMode.valueOf(a[2]), RegionOptions.defaults());
                        System.out.println("OPENED base=" + Long.toHexString(region.baseAddress()) + " addressing=" + region.addressing()
                            + " fallback=" + region.isOffsetFallback() + " size=" + region.size() + " pid=" + ProcessHandle.current().pid()
                            + " backing=" + region.backing());
                    }
                    case "trylock" -> System.out.println(region.writerLock().tryLock() ? "LOCKED pid=" + ProcessHandle.current().pid() : "BUSY");
                    case "create" -> {
                        RegionOptions options = RegionOptions.defaults().size(4096).permissions(dev.panmap.Permissions.parse(a[3]));
                        region = a[1].equals("file") ? SharedRegion.openFile(Path.of(a[2]), OpenMode.CREATE_ONLY, options)
                            : SharedRegion.create(a[2], options);
                        System.out.println("CREATED mode=" + region.permissions());
                    }
                    case "put" -> {
                        LONG.setVolatile(region.segment(), Long.parseLong(a[1]), Long.parseLong(a[2]));
                        System.out.println("OK");
                    }
                    case "get" -> System.out.println("VALUE " + (long) LONG.getVolatile(region.segment(), Long.parseLong(a[1])));
                    case "await" -> {
                        long deadline = System.nanoTime() + 20_000_000_000L;
                        long offset = Long.parseLong(a[1]);
                        long want = Long.parseLong(a[2]);
                        while ((long) LONG.getVolatile(region.segment(), offset) != want && System.nanoTime() < deadline) {
                            Thread.onSpinWait();
                        }
                        System.out.println((long) LONG.getVolatile(region.segment(), offset) == want ? "SEEN" : "TIMEOUT");
                    }
                    case "follow" -> {
                        long ref = region.segment().get(ValueLayout.JAVA_LONG, Long.parseLong(a[1]));
                        long address = region.references().address(ref);
                        long value = region.segment().get(ValueLayout.JAVA_LONG, region.offset(address));
                        System.out.println("FOLLOWED " + value + " ref=" + Long.toHexString(ref) + " address=" + Long.toHexString(address));
                    }
                    case "storeref" -> {
                        region.segment().set(ValueLayout.JAVA_LONG, Long.parseLong(a[1]), region.references().toRef(Long.parseLong(a[2])));
                        System.out.println("OK");
                    }
                    case "lock" -> {
                        region.writerLock().lock();
                        System.out.println("LOCKED pid=" + ProcessHandle.current().pid());
                    }
                    case "unlock" -> {
                        region.writerLock().unlock();
                        System.out.println("UNLOCKED");
                    }
                    case "add" -> {
                        long offset = Long.parseLong(a[1]);
                        int n = Integer.parseInt(a[2]);
                        WriterLock lock = region.writerLock();
                        for (int i = 0; i < n; i++) {
                            lock.lock();
                            try { // a plain, non-atomic read-modify-write: only the lock keeps it exact
                                long v = region.segment().get(ValueLayout.JAVA_LONG, offset);
                                region.segment().set(ValueLayout.JAVA_LONG, offset, v + 1);
                            } finally {
                                lock.unlock();
                            }
                        }
                        System.out.println("ADDED");
                    }
                    case "mlock" -> {
                        region.lockInMemory();
                        System.out.println("MLOCKED");
                    }
                    case "maps" -> {
                        String base = Long.toHexString(region.baseAddress());
                        String found = Files.readAllLines(Path.of("/proc/self/maps")).stream()
                            .filter(l -> l.startsWith(base + "-")).findFirst().orElse("none");
                        System.out.println("MAPS " + found);
                    }
                    case "grow" -> {
                        region.grow(Long.parseLong(a[1]));
                        System.out.println("GROWN size=" + region.size() + " gen=" + region.generation());
                    }
                    case "size" -> {
                        long size = region.segment().byteSize();
                        System.out.println("SIZE size=" + size + " gen=" + region.generation() + " base=" + Long.toHexString(region.baseAddress()));
                    }
                    case "attached" -> System.out.println("ATTACHED " + region.attachedProcesses().stream()
                        .map(p -> p.pid() + ":" + p.alive()).collect(java.util.stream.Collectors.joining(" ")));
                    case "holder" -> System.out.println("HOLDER " + region.writerLock().holder().map(p -> p.pid() + ":" + p.alive()).orElse("none"));
                    case "close" -> {
                        region.close();
                        System.out.println("CLOSED");
                    }
                    case "exit" -> {
                        System.out.println("BYE");
                        System.exit(0);
                    }
                    default -> System.out.println("ERROR unknown command " + a[0]);
                }
            } catch (RegionException e) {
                System.out.println("ERROR " + e.kind() + " " + e.getMessage());
            } catch (RuntimeException e) {
                System.out.println("ERROR " + e);
            }
        }
    }
}
