/**
 * panmap: shared memory between processes through the Foreign Function and Memory API.
 * The public API is the package {@code dev.panmap}; everything under {@code dev.panmap.internal} may
 * change without notice.
 */
module dev.panmap {
    exports dev.panmap;
    exports dev.panmap.structures;
    exports dev.panmap.ipc;

    requires static info.picocli;

    opens dev.panmap.cli to info.picocli;
}
