package dev.panmap.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Which operating systems and architectures panmap runs on, decided without loading anything native. */
class PlatformSelectionTest {

    @Test
    void linuxOnX86_64AndAarch64AndWindowsOnX64AreSupported() {
        assertThat(Platforms.unsupportedReason("Linux", "amd64")).isNull();
        assertThat(Platforms.unsupportedReason("Linux", "x86_64")).isNull();
        assertThat(Platforms.unsupportedReason("Linux", "aarch64")).isNull();
        assertThat(Platforms.unsupportedReason("Windows 11", "amd64")).isNull();
        assertThat(Platforms.unsupportedReason("Windows Server 2022", "x86_64")).isNull();
    }

    @Test
    void everyOtherCombinationIsRefusedWithOneLineNamingWhatIsSupported() {
        String[][] refused = {
            {"Linux", "arm"}, {"Linux", "riscv64"}, {"Linux", "ppc64le"}, {"Linux", "s390x"}, {"Linux", "x86"},
            {"Windows 11", "aarch64"}, {"Mac OS X", "aarch64"}, {"Mac OS X", "x86_64"}, {"FreeBSD", "amd64"}, {"", ""},
        };
        for (String[] c : refused) {
            String reason = Platforms.unsupportedReason(c[0], c[1]);
            assertThat(reason).as("%s %s", c[0], c[1])
                .isEqualTo("panmap supports Linux x86_64, Linux aarch64 and Windows x64 (this is " + c[0] + " " + c[1]
                    + "); other systems and architectures are planned")
                .doesNotContain("\n");
        }
    }

    /** The names Platforms accepts without loading anything are exactly those the POSIX backend has bindings for. */
    @Test
    void theLinuxArchitecturesAgreeWithTheBindings() {
        for (String arch : new String[] {"amd64", "x86_64", "aarch64", "arm", "riscv64", "ppc64le", "s390x", "x86", "i386", ""}) {
            assertThat(Platforms.unsupportedReason("Linux", arch) == null).as(arch)
                .isEqualTo(dev.panmap.internal.posix.PosixPlatform.supportsArch(arch));
        }
    }
}
