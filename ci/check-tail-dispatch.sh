#!/usr/bin/env bash
# Checks, in the x86_64 disassembly of a release test binary, that every
# threaded interpreter handler ends by jumping to the next one: it holds an
# indirect jump through the handler table and no indirect call through it.
# A handler that calls instead would grow the host stack by one frame per
# op executed (see crates/interp/src/exec/dispatch.rs); the tiny-stack test
# (crates/interp/tests/tail_dispatch.rs) catches that only for the ops it
# runs, this catches it for all of them.
#
# Usage: ci/check-tail-dispatch.sh [BINARY]; by default the newest
# target/release/deps/tail_dispatch-* (built by `cargo test --release`).
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-}"
if [ -z "$bin" ]; then
    bin=$(ls -t target/release/deps/tail_dispatch-* 2>/dev/null | grep -v '\.d$' | head -n1 || true)
fi
if [ -z "$bin" ] || [ ! -x "$bin" ]; then
    echo "check-tail-dispatch: no release tail_dispatch test binary; run cargo test --release first" >&2
    exit 1
fi
objdump -d --no-show-raw-insn -C "$bin" | awk '
    /^[0-9a-f]+ <.*>:$/ {
        finish()
        name = ""
        if (index($0, "exec::handlers::handler::") > 0) {
            name = $0; sub(/^[0-9a-f]+ </, "", name); sub(/>:$/, "", name)
            handlers++; jumps = 0; calls = 0
        }
        next
    }
    name != "" && /\tjmp +\*/ { jumps++ }
    # The table dispatch is an indexed indirect call: call *(%base,%index,8).
    name != "" && /\tcall +\*\(%[a-z0-9]+,%[a-z0-9]+,8\)/ { calls++ }
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
        print "check-tail-dispatch: all " handlers " handlers end in a jump"
    }'
