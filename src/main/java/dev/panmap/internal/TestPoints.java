package dev.panmap.internal;

import java.util.function.Consumer;

/**
 * Named places in panmap's own code where a test can stop a thread, or make it fail, to force one
 * interleaving of a race exactly (a close between a grow's two steps, a grow between an attach's
 * reads) instead of hoping a stress run hits it. Off unless the JVM starts with
 * {@code -Dpanmap.testPoints=true}: then {@link #ENABLED} is a constant {@code false} and the JIT
 * removes every {@link #hit}; on, a hit costs a volatile read while no hook is installed.
 *
 * <p>The points, each named where it stands:
 * <table>
 * <caption>test points</caption>
 * <tr><th>name</th><th>where</th></tr>
 * <tr><td>{@code mapMore.beforeBook}</td><td>a grow or refresh holds the descriptor and is about to take
 *     the address book to map the new part</td></tr>
 * <tr><td>{@code grow.betweenStores}</td><td>a grow has published the new size, not yet the new generation</td></tr>
 * <tr><td>{@code attach.afterSize}</td><td>an attach has read the header's current size, not yet mapped it</td></tr>
 * <tr><td>{@code create.beforePublish}</td><td>a creator has written the header, not yet its magic</td></tr>
 * <tr><td>{@code create.beforeRemove}</td><td>a failed create is about to remove the object it made</td></tr>
 * <tr><td>{@code writerLock.afterOsLock}</td><td>a locker has the OS lock, not yet its holder record</td></tr>
 * <tr><td>{@code writerLock.unlock}</td><td>an unlock holds the in-process lock, not yet let go</td></tr>
 * <tr><td>{@code close.afterAbandon}</td><td>a close has taken the writer lock from this object's holder, not yet unmapped</td></tr>
 * <tr><td>{@code ringConsumer.intents}</td><td>a ring consumer has stored a batch's consumed and head intents, not yet zeroed it</td></tr>
 * <tr><td>{@code ringConsumer.zeroed}</td><td>a ring consumer has zeroed a batch, not yet stored its count</td></tr>
 * <tr><td>{@code ringConsumer.counted}</td><td>a ring consumer has stored a batch's count, not yet moved the head</td></tr>
 * <tr><td>{@code ringProducer.beforeTail}</td><td>a one-to-one producer has stored its claim header, not yet its tail</td></tr>
 * <tr><td>{@code ringProducer.afterTailCas}</td><td>a many-to-one producer has taken its range with the tail's compare-and-set, not yet stored its header</td></tr>
 * <tr><td>{@code ringProducer.afterTail}</td><td>a one-to-one producer has stored its tail, not yet its wrap padding</td></tr>
 * <tr><td>{@code broadcastTransmitter.beforePayload}</td><td>a transmitter has stored its intent, record header and sequence, not yet the payload</td></tr>
 * </table>
 */
public final class TestPoints {
    private TestPoints() {}

    /** Whether test points are live in this JVM ({@code -Dpanmap.testPoints=true}). */
    public static final boolean ENABLED = Boolean.getBoolean("panmap.testPoints");

    private static volatile Consumer<String> hook;

    /** Runs the installed hook with {@code point}'s name, if test points are on and a hook is installed. */
    public static void hit(String point) {
        if (ENABLED) {
            Consumer<String> h = hook;
            if (h != null) {
                h.accept(point);
            }
        }
    }

    /**
     * Installs the hook every {@link #hit} runs (null: none). It runs on the thread at the point and
     * may block it or throw into it.
     *
     * @throws IllegalStateException if the JVM did not start with {@code -Dpanmap.testPoints=true}
     */
    public static void install(Consumer<String> h) {
        if (!ENABLED) {
            throw new IllegalStateException("test points are off: start the JVM with -Dpanmap.testPoints=true");
        }
        hook = h;
    }
}
