package dev.panmap.testing;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

/**
 * A test class or method that runs on Linux only: it uses Linux tools or files ({@code /dev/shm},
 * {@code /proc}, {@code setpriv}, {@code strace}, {@code unshare}, a tmpfs mount, {@code gcc}, Python),
 * or the POSIX backend's own code. On Windows it is skipped with this reason. Everything else runs on
 * both systems (on Windows in the workflow's {@code windows-latest} jobs, and under Wine with
 * {@code make windows-jvm}).
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@EnabledOnOs(value = OS.LINUX, disabledReason = "Linux only: uses Linux tools or files, or POSIX-backend guarantees"
    + " (see dev.panmap.testing.LinuxOnly); the Windows backend is tested by dev.panmap.internal.windows")
public @interface LinuxOnly {}
