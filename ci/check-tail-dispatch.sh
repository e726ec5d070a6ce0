#!/usr/bin/env bash
# Checks, in the disassembly of a release build, that every threaded
# interpreter handler ends by jumping to the next one: it holds an indirect
# jump, and no indirect call through the handler table. A handler that
# calls instead would grow the host stack by one frame per op executed (see
# crates/interp/src/exec/dispatch.rs); the tiny-stack test
# (crates/interp/tests/tail_dispatch.rs) catches that only for the ops it
# runs, this catches it for all of them.
#
# Usage: ci/check-tail-dispatch.sh [--arch x86_64|aarch64] [BINARY]
#   BINARY defaults to the newest target/release/deps/tail_dispatch-*
#   (built by `cargo test --release`); --arch defaults to x86_64, and
#   aarch64 disassembles with aarch64-linux-gnu-objdump.
set -euo pipefail
cd "$(dirname "$0")/.."
arch=x86_64
if [ "${1:-}" = --arch ]; then
    arch=$2
    shift 2
fi
bin="${1:-}"
if [ -z "$bin" ]; then
    bin=$(ls -t target/release/deps/tail_dispatch-* 2>/dev/null | grep -v '\.d$' | head -n1 || true)
fi
if [ -z "$bin" ] || [ ! -f "$bin" ]; then
    echo "check-tail-dispatch: no binary to check; run cargo test --release first" >&2
    exit 1
fi
case "$arch" in
    x86_64) objdump=objdump ;;
    aarch64) objdump=aarch64-linux-gnu-objdump ;;
    *) echo "check-tail-dispatch: unknown arch $arch" >&2; exit 2 ;;
esac
"$objdump" -d --no-show-raw-insn -C "$bin" | awk -v arch="$arch" '
    /^[0-9a-f]+ <.*>:$/ {
        finish()
        name = ""
        if (index($0, "exec::handlers::handler::") > 0) {
            name = $0; sub(/^[0-9a-f]+ </, "", name); sub(/>:$/, "", name)
            handlers++; jumps = 0; calls = 0; loaded = ""
        }
        next
    }
    name == "" { next }
    arch == "x86_64" {
        if ($0 ~ /\tjmp +\*/) jumps++
        # The table dispatch is an indexed indirect call: call *(%base,%index,8).
        if ($0 ~ /\tcall +\*\(%[a-z0-9]+,%[a-z0-9]+,8\)/) calls++
    }
    arch == "aarch64" {
        if ($0 ~ /\tbr\tx[0-9]+/) jumps++
        # The table dispatch loads the handler with an indexed ldr, then
        # branches to it: br (a jump) or blr (a call).
        if (match($0, /\tldr\tx[0-9]+, \[x[0-9]+, x[0-9]+, lsl #3\]/)) {
            loaded = $0; sub(/.*\tldr\t/, "", loaded); sub(/,.*/, "", loaded)
        } else if ($0 ~ /\tblr\t/) {
            reg = $0; sub(/.*\tblr\t/, "", reg); sub(/[^a-z0-9].*/, "", reg)
            if (reg == loaded) calls++
            loaded = ""
        } else {
            loaded = ""
        }
    }
    function finish() {
        if (name == "") return
        # Unreachable always traps: it has no successor to jump to.
        if (calls > 0 || (jumps == 0 && name !~ /::Unreachable$/)) {
            print "handler does not tail-call the next: " name " (" calls " table calls, " jumps " indirect jumps)"
            bad++
        }
    }
    END {
        finish()
        if (handlers < 100) { print "check-tail-dispatch: only " handlers " handlers found; is this a threaded build?"; exit 1 }
        if (bad > 0) exit 1
        print "check-tail-dispatch (" arch "): all " handlers " handlers end in a jump"
    }'
