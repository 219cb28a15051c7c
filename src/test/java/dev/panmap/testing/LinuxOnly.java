package dev.panmap.testing;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

/**
 * A test class that runs on Linux only: it uses Linux tools or files ({@code /dev/shm}, {@code /proc},
 * {@code setpriv}, {@code strace}, {@code gcc}, Python), the POSIX backend's own guarantees (the DIRECT
 * close guarantee, OFD locks), or behaviour verified on Linux only. On Windows it is skipped with
 * this reason; the Windows backend has its own tests ({@code dev.panmap.internal.windows}).
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@EnabledOnOs(value = OS.LINUX, disabledReason = "Linux only: uses Linux tools or files, or POSIX-backend guarantees"
    + " (see dev.panmap.testing.LinuxOnly); the Windows backend is tested by dev.panmap.internal.windows")
public @interface LinuxOnly {}
