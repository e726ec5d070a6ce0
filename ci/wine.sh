#!/usr/bin/env bash
# Runs a Windows program under Wine, quietly: the runner of
# x86_64-pc-windows-gnu in .cargo/config.toml (cargo run/test) and in
# ci/cross.sh.
#
#   ci/wine.sh PROGRAM.exe [ARGS...]
#
# The Wine prefix lives under the target directory
# (${CARGO_TARGET_DIR:-target}/wine, or $WINEPREFIX), so no state goes to
# $HOME; it is created on first use without any dialog (no display, no
# Mono or Gecko install prompts) and its output goes to
# <prefix>.setup.log; Wine 8 (Debian 12) also gets a stand-in for
# bcryptprimitives.dll there (ci/wine/bcryptprimitives.c), without which no
# Rust program starts. WINEDEBUG=-all silences Wine's own diagnostics
# unless the caller set WINEDEBUG. The program's exit status is this
# script's. Needs wine64 and gcc-mingw-w64-x86-64 (ci/setup.sh).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"

export WINEPREFIX="${WINEPREFIX:-$TARGET_DIR/wine}"
export WINEDEBUG="${WINEDEBUG:--all}"
# Mono (mscoree) and Gecko (mshtml) are what wineboot offers to download.
export WINEDLLOVERRIDES="${WINEDLLOVERRIDES:-mscoree,mshtml=}"
# No window may open: Wine's first-run and crash dialogs need a display.
unset DISPLAY WAYLAND_DISPLAY

# Debian's wine64 package installs the loader here; the `wine` package
# would add a wrapper on PATH.
wine="$(command -v wine64 || true)"
if [ -z "$wine" ] && [ -x /usr/lib/wine/wine64 ]; then
    wine=/usr/lib/wine/wine64
fi
if [ -z "$wine" ]; then
    echo "wine.sh: wine64 not found (Debian package wine64; ci/setup.sh installs it)" >&2
    exit 127
fi

wineserver="$(dirname "$wine")/wineserver"
[ -x "$wineserver" ] || wineserver=wineserver

# Written last by the setup below: a prefix without it is incomplete.
ready="$WINEPREFIX/.kiln-ready"
if [ ! -f "$ready" ]; then
    mkdir -p "$(dirname "$WINEPREFIX")"
    # One setup at a time (cargo test may start several programs at once).
    exec 9>"$WINEPREFIX.lock"
    flock 9
    if [ ! -f "$ready" ]; then
        "$wine" wineboot --init >"$WINEPREFIX.setup.log" 2>&1 || {
            echo "wine.sh: creating the Wine prefix $WINEPREFIX failed; see $WINEPREFIX.setup.log" >&2
            exit 1
        }
        "$wineserver" -w >>"$WINEPREFIX.setup.log" 2>&1 || true
        # Rust programs import ProcessPrng from bcryptprimitives.dll, which
        # Wine 8 (Debian 12) lacks: build a stand-in (ci/wine/) into the
        # prefix unless this Wine has its own.
        if ! ls /usr/lib/*/wine/x86_64-windows/bcryptprimitives.dll \
            /usr/lib/wine/x86_64-windows/bcryptprimitives.dll >/dev/null 2>&1; then
            x86_64-w64-mingw32-gcc -shared -O2 -o "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll" \
                "$ROOT/ci/wine/bcryptprimitives.c" -ladvapi32 >>"$WINEPREFIX.setup.log" 2>&1 || {
                echo "wine.sh: building the bcryptprimitives.dll stand-in failed; see $WINEPREFIX.setup.log" >&2
                exit 1
            }
        fi
        touch "$ready"
    fi
    exec 9>&-
fi

# Start the Wine server and its background services (services.exe,
# winedevice.exe) here, detached from this script's output, and keep them
# for 10 s after the last program: otherwise the program starts them with
# its own stdout and stderr, and a caller reading those through a pipe
# (`out=$(ci/wine.sh ...)`) waits for them to linger out after every
# program (10 s each). Exit status 2: a server is already running.
if "$wineserver" -p10 </dev/null >/dev/null 2>&1; then
    "$wine" cmd.exe /c exit 0 </dev/null >/dev/null 2>&1 || true
fi

exec "$wine" "$@"
