package dev.panmap.ipc;

import java.util.concurrent.locks.LockSupport;

/**
 * What a polling loop does when a poll found no work: {@code idle(work)} after each poll with the
 * count of what it did ({@code 0} means idle), as Agrona's idle strategies. A strategy is state of
 * one thread: do not share it.
 *
 * <pre>{@code
 * IdleStrategy idle = IdleStrategy.backoff();
 * while (running) {
 *     idle.idle(consumer.read(handler, 64));
 * }
 * }</pre>
 *
 * For a consumer that should sleep in the kernel until a producer wakes it, see
 * {@link RingConsumer#blockingIdle(int, long)}.
 */
public interface IdleStrategy {
    /**
     * Called after each poll; {@code workCount} 0 means nothing was done.
     *
     * @param workCount what the poll did; 0 means nothing
     */
    void idle(int workCount);

    /** Forgets any back-off state. */
    default void reset() {}

    /**
     * Spins with {@link Thread#onSpinWait()}: the lowest latency, a whole core.
     *
     * @return the strategy
     */
    static IdleStrategy busySpin() {
        return work -> {
            if (work == 0) {
                Thread.onSpinWait();
            }
        };
    }

    /**
     * Gives the core away with {@link Thread#yield()} while idle.
     *
     * @return the strategy
     */
    static IdleStrategy yielding() {
        return work -> {
            if (work == 0) {
                Thread.yield();
            }
        };
    }

    /**
     * 100 spins, then 100 yields, then parks from 1 µs doubling to 1 ms.
     *
     * @return a new strategy, for one thread
     */
    static IdleStrategy backoff() {
        return backoff(100, 100, 1_000, 1_000_000);
    }

    /**
     * Spins, then yields, then parks from {@code minParkNanos} doubling to {@code maxParkNanos}.
     *
     * @param spins how many idle polls spin
     * @param yields how many idle polls after those yield
     * @param minParkNanos the first park, in nanoseconds
     * @param maxParkNanos the longest park, in nanoseconds
     * @return a new strategy, for one thread
     */
    static IdleStrategy backoff(int spins, int yields, long minParkNanos, long maxParkNanos) {
        if (spins < 0 || yields < 0 || minParkNanos < 1 || maxParkNanos < minParkNanos) {
            throw new IllegalArgumentException("need spins, yields >= 0 and 1 <= minParkNanos <= maxParkNanos: spins=" + spins
                + ", yields=" + yields + ", minParkNanos=" + minParkNanos + ", maxParkNanos=" + maxParkNanos);
        }
        return new Backoff(spins, yields, minParkNanos, maxParkNanos);
    }

    /** The spin-yield-park back-off. */
    final class Backoff implements IdleStrategy {
        private final int spins;
        private final int yields;
        private final long minPark;
        private final long maxPark;
        private long idleCount;
        private long park;

        Backoff(int spins, int yields, long minPark, long maxPark) {
            this.spins = spins;
            this.yields = yields;
            this.minPark = minPark;
            this.maxPark = maxPark;
            this.park = minPark;
        }

        @Override
        public void idle(int workCount) {
            if (workCount > 0) {
                reset();
                return;
            }
            long n = idleCount++;
            if (n < spins) {
                Thread.onSpinWait();
            } else if (n < (long) spins + yields) {
                Thread.yield();
            } else {
                LockSupport.parkNanos(park);
                park = Math.min(park << 1, maxPark);
            }
        }

        @Override
        public void reset() {
            idleCount = 0;
            park = minPark;
        }
    }
}
