package dev.panmap.structures;

import dev.panmap.OpenMode;
import dev.panmap.RegionOptions;
import dev.panmap.References;
import dev.panmap.SharedRegion;
import dev.panmap.WriterLock;

/**
 * The other process of {@link StructuresCrossProcessTest}: attaches to a region by name and to its
 * structures by root offset, checks what the parent built (the same seeded contents as
 * {@link StructuresCrossProcessTest#contents}), then adds one entry to each under the writer lock.
 * Args: NAME LIST_ROOT HASH_ROOT SKIP_ROOT N.
 */
public final class StructuresChild {
    public static void main(String[] args) {
        try (SharedRegion region = SharedRegion.open(args[0], OpenMode.OPEN_ONLY, RegionOptions.defaults())) {
            int n = Integer.parseInt(args[4]);
            NodeList list = NodeList.attach(region, Long.parseLong(args[1]));
            HashIndex hash = HashIndex.attach(region, Long.parseLong(args[2]));
            SkipList skip = SkipList.attach(region, Long.parseLong(args[3]));
            System.out.println("ATTACHED direct=" + region.references().isDirect() + " base=" + Long.toHexString(region.baseAddress()));

            long count = 0;
            long sum = 0;
            for (long node = list.first(); node != References.NULL; node = list.next(node)) {
                count++;
                sum += list.value(node);
            }
            System.out.println("LIST count=" + count + " sum=" + sum + " first=" + Long.toHexString(list.first()));

            long[][] kv = StructuresCrossProcessTest.contents(n);
            int hashOk = 0;
            int skipOk = 0;
            for (long[] e : kv) {
                hashOk += hash.get(e[0], -1) == e[1] && hash.get(-e[0], -1) == -1 ? 1 : 0;
                skipOk += skip.get(e[0], -1) == e[1] && skip.floorKey(e[0] + 1, 0) == e[0] && skip.ceilingKey(e[0] - 1, 0) == e[0] ? 1 : 0;
            }
            System.out.println("HASH ok=" + hashOk + " SKIP ok=" + skipOk + " skipSize=" + skip.size());

            try (WriterLock.Held held = region.writerLock().hold()) {
                list.add(1_000_000);
                hash.put(123_456_789, 42, -1);
                skip.put(Long.MAX_VALUE, 43, -1);
            }
            System.out.println("WROTE");
        }
    }
}
