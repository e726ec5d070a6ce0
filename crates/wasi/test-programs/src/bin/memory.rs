//! `memory MIB`: grows linear memory 1 MiB at a time until it holds MIB MiB
//! or `memory.grow` is refused (`kiln run -W max-memory-size=`), printing
//! the final size; then asks `Vec::try_reserve` for MIB MiB more.

fn main() {
    let cap_mib: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(64);
    let cap = cap_mib << 20;
    let refused = grow_to(cap);
    println!("memory.grow refused: {refused}");
    println!("memory size: {} bytes", memory_bytes());
    let mut v: Vec<u8> = Vec::new();
    let reserved = v.try_reserve_exact(cap).is_ok();
    println!(
        "try_reserve {cap_mib} MiB more: {}",
        if reserved { "ok" } else { "failed" }
    );
}

const PAGE: usize = 65536;

#[cfg(target_arch = "wasm32")]
fn memory_bytes() -> usize {
    core::arch::wasm32::memory_size(0) * PAGE
}

/// Grows memory 0 by 16 pages at a time up to `cap` bytes; returns whether
/// a grow was refused first.
#[cfg(target_arch = "wasm32")]
fn grow_to(cap: usize) -> bool {
    while memory_bytes() + 16 * PAGE <= cap {
        if core::arch::wasm32::memory_grow(0, 16) == usize::MAX {
            return true;
        }
    }
    false
}

#[cfg(not(target_arch = "wasm32"))]
fn memory_bytes() -> usize {
    PAGE
}

#[cfg(not(target_arch = "wasm32"))]
fn grow_to(_: usize) -> bool {
    false
}
