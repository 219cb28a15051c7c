package dev.panmap.testing;

import dev.panmap.Addressing;
import dev.panmap.RegionOptions;
import dev.panmap.RegionSocket;
import dev.panmap.SharedRegion;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A child JVM that creates an anonymous region, stores a value at data offset 0 (and an address or
 * offset to it at 8), and hands the region over on a socket once; then it waits on stdin, so that
 * the test can kill it. Arguments: SOCKET OFFSET|DIRECT VALUE. Prints
 * {@code HANDED pid=P granted=B base=HEX}.
 */
public final class AnonSenderChild {
    public static void main(String[] args) throws Exception {
        RegionOptions options = RegionOptions.defaults().size(1 << 20).addressing(Addressing.valueOf(args[1]));
        SharedRegion region = SharedRegion.createAnonymous(options);
        region.segment().set(ValueLayout.JAVA_LONG, 4096, Long.parseLong(args[2]));
        region.segment().set(ValueLayout.JAVA_LONG, 8, region.references().toRef(4096));
        try (RegionSocket socket = RegionSocket.listen(region, Path.of(args[0]))) {
            System.out.println("LISTENING");
            RegionSocket.Handover h = socket.handOver(Duration.ofSeconds(60)).orElseThrow();
            System.out.println("HANDED pid=" + h.pid() + " granted=" + h.granted() + " base=" + Long.toHexString(region.baseAddress()));
        }
        System.in.read(); // kept alive until killed or told
        region.close();
    }
}
