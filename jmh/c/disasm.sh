#!/bin/sh
# Prints the loop of each named function of BINARY as objdump -d disassembles it: the instructions
# from the target of the function's backward conditional jump to that jump, then each out-of-line
# block the loop jumps to (up to its jmp back or ret), e.g. chase's wrap to the first node. A
# function without a backward jump is printed whole. objdump and POSIX awk only.
# Reads x86-64 binaries (jumps: j*, jmp; ret) and aarch64 ones (conditional: b.<cond>, cbz, cbnz,
# tbz, tbnz; unconditional: b; ret); any other architecture is refused, since its branches would go
# unseen and every function would be printed whole as if it had no loop. OBJDUMP (default objdump)
# names the objdump to use, e.g. aarch64-linux-gnu-objdump for an aarch64 binary on x86-64.
#
# usage: disasm.sh BINARY FUNCTION...     (the functions must be in the symbol table: do not strip)
#   jmh/c/disasm.sh target/bench/chase chase_pointer chase_offset chase_offset_add chase_pointer_cmov
set -eu
if [ $# -lt 2 ]; then
    echo "usage: disasm.sh BINARY FUNCTION..." >&2
    exit 2
fi
bin=$1
shift
[ -r "$bin" ] || { echo "disasm.sh: cannot read $bin" >&2; exit 1; }
objdump=${OBJDUMP:-objdump}
arch=$("$objdump" -f "$bin" | sed -n 's/^architecture: *\([^,]*\).*/\1/p')
case $arch in
    i386:x86-64) arch=x86_64 ;;
    aarch64) ;;
    UNKNOWN!|'') echo "disasm.sh: $objdump cannot read $bin (another architecture's binary? set OBJDUMP, e.g. aarch64-linux-gnu-objdump)" >&2; exit 1 ;;
    *) echo "disasm.sh: $bin is for $arch: this script reads x86-64 and aarch64 branches only" >&2; exit 1 ;;
esac
status=0
for fn in "$@"; do
    "$objdump" -d --no-show-raw-insn "$bin" | awk -v fn="$fn" -v arch="$arch" '
        function hex(s,   i, c, v) {
            v = 0; s = tolower(s)
            for (i = 1; i <= length(s); i++) {
                c = index("0123456789abcdef", substr(s, i, 1))
                if (c == 0) return -1
                v = v * 16 + c - 1
            }
            return v
        }
        $2 == "<" fn ">:" { on = 1; next }
        on && /^$/ { exit }
        on && /^ *[0-9a-f]+:/ {
            n++; line[n] = $0
            a = $1; sub(/:$/, "", a); addr[n] = hex(a)
            # the mnemonic: the first word after the address (x86-64: a space before the operands,
            # aarch64: a tab); a branch: its target is the hex address before "<function+offset>"
            split($0, f, "\t"); mn = f[2]; sub(/ .*/, "", mn); tgt[n] = -1; kind[n] = ""
            if (arch == "x86_64") {
                if (mn ~ /^j/) kind[n] = (mn == "jmp") ? "jmp" : "jcc"
                else if (mn ~ /^ret/) kind[n] = "ret"
            } else {
                if (mn ~ /^b\./ || mn ~ /^(cbz|cbnz|tbz|tbnz)$/) kind[n] = "jcc"
                else if (mn == "b") kind[n] = "jmp"
                else if (mn == "ret") kind[n] = "ret"
            }
            if ((kind[n] == "jcc" || kind[n] == "jmp") && match($0, /[0-9a-f]+ </))
                tgt[n] = hex(substr($0, RSTART, RLENGTH - 2))
        }
        END {
            if (n == 0) { print "disasm.sh: no function " fn > "/dev/stderr"; exit 1 }
            print "<" fn ">:"
            # the loop: from the lowest target of a backward conditional jump to the last such jump
            # (backward jmps, as from an out-of-line block, count only when there is no such jump)
            lo = 0; hi = 0
            for (pass = 1; pass <= 2 && lo == 0; pass++)
                for (i = 1; i <= n; i++)
                    if (tgt[i] >= addr[1] && tgt[i] <= addr[i] && (kind[i] == "jcc" || pass == 2)) {
                        for (j = 1; j <= n; j++) if (addr[j] == tgt[i]) break
                        if (lo == 0 || j < lo) lo = j
                        if (i > hi) hi = i
                    }
            if (lo == 0) { for (i = 1; i <= n; i++) print line[i]; exit }
            print "  loop:"
            for (i = lo; i <= hi; i++) print line[i]
            for (i = lo; i <= hi; i++) {
                if (tgt[i] < 0 || (tgt[i] >= addr[lo] && tgt[i] <= addr[hi]) || tgt[i] < addr[1] || done[tgt[i]]) continue
                done[tgt[i]] = 1
                for (j = 1; j <= n; j++) if (addr[j] == tgt[i]) break
                if (j > n) continue
                print "  out of line, from " sprintf("%x", addr[i]) ":"
                for (; j <= n; j++) { print line[j]; if (kind[j] == "jmp" || kind[j] == "ret") break }
            }
        }' || status=1
done
exit $status
