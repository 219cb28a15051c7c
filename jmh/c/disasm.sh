#!/bin/sh
# Prints the loop of each named function of BINARY as objdump -d disassembles it: the instructions
# from the target of the function's backward conditional jump to that jump, then each out-of-line
# block the loop jumps to (up to its jmp back or ret), e.g. chase's wrap to the first node. A
# function without a backward jump is printed whole. objdump and POSIX awk only.
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
status=0
for fn in "$@"; do
    objdump -d --no-show-raw-insn "$bin" | awk -v fn="$fn" '
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
            # a jump: its target is the first hex field after the mnemonic
            split($0, f, "\t"); ins = f[2]; mn = ins; sub(/ .*/, "", mn); tgt[n] = -1; kind[n] = ""
            if (mn ~ /^j/) {
                t = ins; sub(/^[^ ]+ +/, "", t); sub(/ .*/, "", t)
                tgt[n] = hex(t); kind[n] = (mn == "jmp") ? "jmp" : "jcc"
            }
            if (mn ~ /^ret/) kind[n] = "ret"
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
