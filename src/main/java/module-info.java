/**
 * panmap: shared memory between processes through the Foreign Function and Memory API.
 * <p>
 * Exported, and so the public API: {@code dev.panmap} (regions, records, the writer lock, options and
 * errors), {@code dev.panmap.structures} (the list, hash index, skip list and heap that live inside a
 * region) and {@code dev.panmap.ipc} (rings and broadcast between processes). Not exported:
 * {@code dev.panmap.internal} and the packages below it (the platform backends and the jextract
 * bindings), which may change without notice. The module requires nothing but {@code java.base}, and
 * {@code jdk.jfr} optionally: where the JDK's Flight Recorder is present panmap emits its events
 * ({@code dev.panmap.*}), where it is not it runs without them.
 */
module dev.panmap {
    requires static jdk.jfr;

    exports dev.panmap;
    exports dev.panmap.structures;
    exports dev.panmap.ipc;
}
