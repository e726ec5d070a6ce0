#!/usr/bin/env bash
# Links a WebAssembly program into a native executable.
#
#   examples/static-link/build.sh IN.wasm OUT
#
# Compiles IN with `kiln compile --emit-object` (the workspace's release
# `kiln`, built if missing) and links the object into this directory's host
# program, which is copied to OUT. `OUT ARGS...` then behaves as
# `kiln run --dir . IN ARGS...` does (arguments, standard streams, the
# current directory preopened as `.`, the exit status), without compiling
# anything or mapping executable memory at run time.
set -euo pipefail
[ $# -eq 2 ] || { sed -n '2,11p' "$0"; exit 2; }
in=$1 out=$2
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
[ -f "$in" ] || { echo "build.sh: no such file: $in" >&2; exit 1; }

kiln="$root/target/release/kiln"
[ -x "$kiln" ] || cargo build --release --manifest-path "$root/Cargo.toml" -p kiln-cli
obj_dir="$root/target/static-link"
mkdir -p "$obj_dir"
obj="$obj_dir/$(basename "${in%.*}").o"
"$kiln" compile --emit-object --symbol kiln_static_module "$in" -o "$obj"

# The host is a workspace member; the object's path in the environment
# makes its build script link it (and rebuild when it changes).
KILN_STATIC_OBJECT="$obj" cargo build --release --manifest-path "$root/Cargo.toml" \
    -p kiln-static-link-example
cp "$root/target/release/kiln-static-host" "$out"
echo "build.sh: wrote $out"
