#!/usr/bin/env bash
# Installs everything Kiln's tests need on a fresh Debian 12 (bookworm) machine,
# and skips every step whose result is already present, so a warm machine
# spends about a second here.
#
#   ci/setup.sh          rustup components + cross targets, Debian packages
#   ci/setup.sh --fuzz   also cargo-fuzz (not needed by ci/test.sh)
#
# What gets installed:
#   rustup components  rustfmt, clippy            (for the toolchain pinned in
#   rustup targets     i686-unknown-linux-gnu,     rust-toolchain.toml)
#                      s390x-unknown-linux-gnu,
#                      armv7-unknown-linux-gnueabihf,
#                      aarch64-unknown-linux-gnu,
#                      riscv64gc-unknown-linux-gnu,
#                      x86_64-pc-windows-gnu,
#                      aarch64-apple-darwin,       (cargo check only)
#                      x86_64-apple-darwin,
#                      wasm32-wasip1               (the WASI test programs in
#                                                  crates/wasi/test-programs,
#                                                  and kiln.wasm: ci/cross.sh)
#                      x86_64-unknown-none,        (kiln without std:
#                      thumbv7em-none-eabihf,       tests/no-std/run.sh)
#                      riscv32imac-unknown-none-elf
#   Debian packages    libc6-dev-i386,        (let the host gcc link with -m32,
#                      lib32gcc-N-dev         as rustc asks for i686; N = host
#                                             gcc's major, 12 on bookworm)
#                      gcc-s390x-linux-gnu,   (cross linker for s390x)
#                      libc6-dev-s390x-cross  (s390x libc + sysroot used by qemu -L)
#                      qemu-user              (qemu-s390x, qemu-arm, qemu-aarch64,
#                                             qemu-riscv64; bookworm's 7.2. Not
#                                             qemu-user-static: .cargo/config.toml
#                                             names the dynamic `qemu-*`)
#                      gcc-arm-linux-gnueabihf, libc6-dev-armhf-cross
#                                             (armv7: linker, libc + qemu sysroot)
#                      gcc-aarch64-linux-gnu, libc6-dev-arm64-cross
#                      gcc-riscv64-linux-gnu, libc6-dev-riscv64-cross
#                                             (the same for aarch64, riscv64)
#                      gcc-mingw-w64-x86-64   (Windows linker; also builds
#                                             ci/wine.sh's DLL stand-in)
#                      wine64                 (runs the Windows build: ci/wine.sh)
#                      strace                 (examples/static-link/test.sh: no
#                                             executable memory mapped)
#                      wabt                   (wat2wasm for examples/min-platform,
#                                             whose no_std Kiln reads no text)
#   Why not gcc-multilib: on Debian it Conflicts with every cross gcc
#   (gcc-12-s390x-linux-gnu among them), so apt refuses the pair. gcc-multilib
#   is only a metapackage over the 32-bit libc/libgcc dev files named above,
#   which don't conflict and are all Rust's i686 linking needs (the host gcc
#   then also compiles -m32 C that includes no <asm/...> kernel header).
#   cargo-fuzz         only with --fuzz (cargo install --locked), plus g++:
#                      libfuzzer-sys compiles libFuzzer's C++ sources with it
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT" # so rustup acts on the toolchain pinned in rust-toolchain.toml

want_fuzz=0
for arg in "$@"; do
    case "$arg" in
        --fuzz) want_fuzz=1 ;;
        -h | --help)
            sed -n '2,/^set -euo/{/^set/d;p}' "$0"
            exit 0
            ;;
        *)
            echo "setup.sh: unknown option: $arg" >&2
            exit 2
            ;;
    esac
done

start=$SECONDS
log() { echo "[setup] $*"; }

# --- Rust toolchain pieces --------------------------------------------------
# `rustup show active-toolchain` installs the pinned toolchain if it is missing
# (rustup >= 1.28 needs `rustup toolchain install` for that; do it explicitly).
toolchain="$(sed -n 's/^channel *= *"\(.*\)"/\1/p' rust-toolchain.toml)"
if ! rustup toolchain list | grep -q "^${toolchain}-"; then
    log "installing toolchain $toolchain"
    rustup toolchain install "$toolchain" --profile minimal
fi

installed_components="$(rustup component list --installed --toolchain "$toolchain")"
for comp in rustfmt clippy; do
    if grep -q "^${comp}\(-\|$\)" <<<"$installed_components"; then
        log "rustup component $comp: present"
    else
        log "rustup component $comp: installing"
        rustup component add --toolchain "$toolchain" "$comp"
    fi
done

installed_targets="$(rustup target list --installed --toolchain "$toolchain")"
for target in i686-unknown-linux-gnu s390x-unknown-linux-gnu armv7-unknown-linux-gnueabihf \
    aarch64-unknown-linux-gnu riscv64gc-unknown-linux-gnu x86_64-pc-windows-gnu \
    aarch64-apple-darwin x86_64-apple-darwin wasm32-wasip1 \
    x86_64-unknown-none thumbv7em-none-eabihf riscv32imac-unknown-none-elf; do
    if grep -qx "$target" <<<"$installed_targets"; then
        log "rustup target $target: present"
    else
        log "rustup target $target: installing"
        rustup target add --toolchain "$toolchain" "$target"
    fi
done

# --- Debian packages ---------------------------------------------------------
deb_installed() {
    [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]
}

gcc_major="$(gcc -dumpversion 2>/dev/null | cut -d. -f1)"
gcc_major="${gcc_major:-12}" # bookworm's gcc, should gcc itself be missing
missing=()
packages=(
    libc6-dev-i386 "lib32gcc-${gcc_major}-dev" gcc-s390x-linux-gnu libc6-dev-s390x-cross qemu-user
    gcc-arm-linux-gnueabihf libc6-dev-armhf-cross gcc-aarch64-linux-gnu libc6-dev-arm64-cross
    gcc-riscv64-linux-gnu libc6-dev-riscv64-cross gcc-mingw-w64-x86-64 wine64 strace wabt
)
if [ "$want_fuzz" -eq 1 ]; then
    packages+=(g++)
fi
for pkg in "${packages[@]}"; do
    if deb_installed "$pkg"; then
        log "deb $pkg: present"
    else
        missing+=("$pkg")
    fi
done

if [ "${#missing[@]}" -gt 0 ]; then
    sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        sudo=(sudo)
    fi
    log "deb: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt_opts=(-o DPkg::Lock::Timeout=300 -o Acquire::Retries=3)
    "${sudo[@]}" apt-get "${apt_opts[@]}" update -qq
    # --no-install-recommends: qemu-user recommends qemu-user-binfmt, whose
    # binfmt_misc registration is not needed (cargo calls qemu as the runner)
    # and fails in containers.
    "${sudo[@]}" apt-get "${apt_opts[@]}" install -y -qq --no-install-recommends "${missing[@]}"
fi

# --- qemu-riscv64 with the vector extension ---------------------------------
# Cranelift compiles wasm SIMD for riscv64 only with V, and bookworm's
# qemu-user (7.2) neither emulates V in user mode nor reports it to the
# process. bookworm-backports has qemu 10 (statically linked binaries): its
# qemu-riscv64 alone is unpacked into $KILN_QEMU_DIR (not installed, so every
# other target keeps the packaged qemu), and ci/qemu-riscv64.sh runs it with
# V enabled. A throwaway apt state keeps backports out of the system's
# sources.
KILN_QEMU_DIR="${KILN_QEMU_DIR:-/opt/kiln-qemu}"
if [ -x "$KILN_QEMU_DIR/qemu-riscv64" ]; then
    log "qemu-riscv64 (backports, with V): present"
else
    log "qemu-riscv64 (backports, with V): fetching"
    qtmp="$(mktemp -d)"
    mkdir -p "$qtmp/lists/partial" "$qtmp/archives/partial"
    cat >"$qtmp/backports.sources" <<'SOURCES'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
    apt_q=(-o "Dir::Etc::SourceList=$qtmp/backports.sources" -o Dir::Etc::SourceParts=-
        -o "Dir::State::Lists=$qtmp/lists" -o "Dir::Cache::Archives=$qtmp/archives"
        -o Acquire::Retries=3 -o APT::Sandbox::User=root)
    apt-get "${apt_q[@]}" update -qq
    (cd "$qtmp" && apt-get "${apt_q[@]}" download -qq qemu-user/bookworm-backports)
    dpkg -x "$qtmp"/qemu-user_*.deb "$qtmp/root"
    mkdir -p "$KILN_QEMU_DIR"
    install -m 755 "$qtmp/root/usr/bin/qemu-riscv64" "$KILN_QEMU_DIR/qemu-riscv64"
    rm -rf "$qtmp"
fi
qemu_version="$("$KILN_QEMU_DIR/qemu-riscv64" --version 2>/dev/null | head -n 1 || true)"
if [[ "$qemu_version" != *"version "* ]]; then
    echo "setup.sh: $KILN_QEMU_DIR/qemu-riscv64 does not run" >&2
    exit 1
fi
log "qemu-riscv64 for V: $qemu_version"

# Sanity: the tools .cargo/config.toml names must now be on PATH.
for tool in s390x-linux-gnu-gcc qemu-s390x arm-linux-gnueabihf-gcc qemu-arm aarch64-linux-gnu-gcc \
    qemu-aarch64 riscv64-linux-gnu-gcc qemu-riscv64 x86_64-w64-mingw32-gcc; do
    if ! command -v "$tool" >/dev/null; then
        echo "setup.sh: $tool not found after installing its package" >&2
        exit 1
    fi
done
for loader in /usr/s390x-linux-gnu/lib/ld64.so.1 /usr/arm-linux-gnueabihf/lib/ld-linux-armhf.so.3; do
    if [ ! -e "$loader" ]; then
        echo "setup.sh: $loader missing (the libc6-*-cross package of its target)" >&2
        exit 1
    fi
done
# Debian's wine64 puts its loader beside the server, not on PATH.
if ! command -v wine64 >/dev/null && [ ! -x /usr/lib/wine/wine64 ]; then
    echo "setup.sh: wine64 not found after installing its package" >&2
    exit 1
fi

# --- optional: cargo-fuzz ----------------------------------------------------
if [ "$want_fuzz" -eq 1 ]; then
    if command -v cargo-fuzz >/dev/null; then
        log "cargo-fuzz: present"
    else
        log "cargo-fuzz: installing (cargo install --locked)"
        cargo install --locked cargo-fuzz
    fi
fi

log "done in $((SECONDS - start)) s"
