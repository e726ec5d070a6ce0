//! Tests of the platform layer. The virtual-memory, code-memory and image
//! tests run on every Unix host; the trap tests need real machine code and
//! run where traps are implemented (Linux on x86_64, aarch64, s390x and
//! riscv64; the last three under qemu-user).

use std::prelude::rust_2024::*;

use super::*;

fn page() -> usize {
    page_size()
}

#[test]
fn reserve_then_open_pages_and_write() {
    let mut map = Mmap::reserve(16 * page()).unwrap();
    assert_eq!(map.len(), 16 * page());
    map.make_accessible(0, 2 * page()).unwrap();
    let base = map.as_ptr();
    // SAFETY: the first two pages were just made read + write.
    unsafe {
        assert_eq!(base.read(), 0, "fresh pages read as zero");
        base.write(7);
        base.add(2 * page() - 1).write(9);
        assert_eq!(base.read(), 7);
        assert_eq!(base.add(2 * page() - 1).read(), 9);
    }
}

#[test]
fn growth_inside_a_reservation_keeps_the_base() {
    let mut map = Mmap::reserve(64 * page()).unwrap();
    map.make_accessible(0, page()).unwrap();
    let base = map.as_ptr();
    // SAFETY: page 0 is accessible.
    unsafe { base.write(42) };
    map.make_accessible(page(), 7 * page()).unwrap();
    assert_eq!(map.as_ptr(), base);
    // SAFETY: pages 0..8 are accessible now.
    unsafe {
        assert_eq!(base.read(), 42, "growth keeps the contents");
        base.add(8 * page() - 1).write(1);
    }
}

/// Pages of `map`'s first `len` bytes that are resident (Linux `mincore`).
#[cfg(any(target_os = "linux", target_os = "android"))]
fn resident_pages(map: &Mmap, len: usize) -> usize {
    let mut flags = vec![0u8; len / page()];
    // SAFETY: the range is page-aligned and mapped (it belongs to `map`),
    // and `flags` has one byte per page, as mincore writes.
    let rc = unsafe { libc::mincore(map.as_ptr().cast(), len, flags.as_mut_ptr().cast()) };
    assert_eq!(rc, 0, "mincore");
    flags.iter().filter(|&&f| f & 1 != 0).count()
}

#[cfg(any(target_os = "linux", target_os = "android"))]
#[test]
fn take_prefix_moves_pages_without_touching_the_rest() {
    // 4096 pages, two of them written: a copy would commit all of them
    // (sparse memory64 heaps grew by gigabytes of copying that way).
    let len = 4096 * page();
    let mut src = Mmap::reserve(len + 4 * page()).unwrap();
    src.make_accessible(0, len).unwrap();
    // SAFETY: `0..len` is accessible.
    unsafe {
        src.as_ptr().write(5);
        src.as_ptr().add(len - 1).write(6);
    }
    let mut dst = Mmap::reserve(2 * len).unwrap();
    dst.make_accessible(0, 2 * len).unwrap();
    // SAFETY: no reference points into either mapping.
    let moved = unsafe { dst.take_prefix(&mut src, len) };
    // qemu-user (how CI runs the other architectures) refuses
    // MREMAP_FIXED with EINVAL; the runtime then copies. A real kernel
    // must do the move.
    if moved.is_err() && !cfg!(target_arch = "x86_64") {
        assert_eq!(
            src.len(),
            len + 4 * page(),
            "a refused move changes nothing"
        );
        return;
    }
    moved.unwrap();
    assert_eq!(src.len(), 4 * page(), "the source keeps only its tail");
    // SAFETY: `0..2 * len` of `dst` is accessible (the moved pages kept
    // their read + write access).
    unsafe {
        assert_eq!(dst.as_ptr().read(), 5);
        assert_eq!(dst.as_ptr().add(len - 1).read(), 6);
        assert_eq!(dst.as_ptr().add(len).read(), 0, "the rest is still fresh");
    }
    // (Not under qemu-user either, whose guest mappings need not match
    // the host's page by page.)
    if cfg!(target_arch = "x86_64") {
        assert!(
            resident_pages(&dst, len) <= 2,
            "untouched pages stayed untouched"
        );
    }
}

#[test]
fn take_prefix_rejects_a_range_past_either_mapping() {
    let mut src = Mmap::accessible(2 * page()).unwrap();
    let mut dst = Mmap::reserve(page()).unwrap();
    // SAFETY: no reference points into either mapping; the call fails.
    assert!(unsafe { dst.take_prefix(&mut src, 2 * page()) }.is_err());
    assert_eq!(
        src.len(),
        2 * page(),
        "a failed move leaves the source whole"
    );
}

#[test]
fn closed_pages_keep_their_contents() {
    let mut map = Mmap::accessible(2 * page()).unwrap();
    // SAFETY: the mapping is accessible.
    unsafe { map.as_ptr().add(page()).write(3) };
    // SAFETY: no reference into the mapping exists.
    unsafe { map.make_inaccessible(page(), page()).unwrap() };
    map.make_accessible(page(), page()).unwrap();
    // SAFETY: accessible again.
    assert_eq!(unsafe { map.as_ptr().add(page()).read() }, 3);
}

#[test]
fn decommit_reads_back_zero_and_keeps_access() {
    let mut map = Mmap::accessible(4 * page()).unwrap();
    // SAFETY: the whole mapping is accessible.
    unsafe { map.as_ptr().add(page()).write(5) };
    // SAFETY: no reference into the mapping exists.
    unsafe { map.decommit(0, 4 * page()).unwrap() };
    // SAFETY: still accessible.
    assert_eq!(unsafe { map.as_ptr().add(page()).read() }, 0);
}

#[test]
fn bad_ranges_are_errors_not_panics() {
    let mut map = Mmap::reserve(4 * page()).unwrap();
    assert!(matches!(
        Mmap::reserve(page() + 1),
        Err(SysError::BadRange { .. })
    ));
    assert!(matches!(
        map.make_accessible(1, page()),
        Err(SysError::BadRange { .. })
    ));
    assert!(matches!(
        map.make_accessible(0, 5 * page()),
        Err(SysError::BadRange { .. })
    ));
    assert!(matches!(
        map.make_accessible(usize::MAX - page() + 1, 2 * page()),
        Err(SysError::BadRange { .. })
    ));
    // A reservation no address space can hold fails cleanly.
    let huge = usize::MAX & !(page() - 1);
    assert!(matches!(Mmap::reserve(huge), Err(SysError::Os { .. })));
    assert!(CodeMemory::new(&[]).is_err());
    assert!(matches!(
        MemoryImage::new(b"x", 1),
        Err(SysError::BadRange { .. })
    ));
    let err = map.make_accessible(0, 5 * page()).unwrap_err();
    assert!(err.to_string().contains("make_accessible"), "{err}");
}

#[test]
fn default_reservation_fits_the_host() {
    let r = MemoryReservation::host_default();
    if usize::BITS >= 64 {
        assert_eq!(r.reservation, 4 << 30);
        assert_eq!(r.guard, 32 << 20);
        assert!(r.covers_32bit_index_space);
        let total = r.total().unwrap();
        let map = Mmap::reserve(total).unwrap();
        assert_eq!(map.len(), total);
    } else {
        assert!(!r.covers_32bit_index_space);
        assert!(r.total().is_ok());
    }
}

/// The permissions column of the `/proc/self/maps` line that contains
/// `addr`.
fn permissions_of(addr: usize) -> Option<String> {
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    maps.lines().find_map(|line| {
        let mut fields = line.split_whitespace();
        let (lo, hi) = fields.next()?.split_once('-')?;
        let lo = usize::from_str_radix(lo, 16).ok()?;
        let hi = usize::from_str_radix(hi, 16).ok()?;
        (lo <= addr && addr < hi).then(|| fields.next().map(str::to_owned))?
    })
}

#[test]
fn code_memory_is_read_execute_never_writable() {
    let code = CodeMemory::new(&[0xc3; 100]).unwrap();
    assert_eq!(code.len(), 100);
    assert_eq!(code.as_slice(), &[0xc3; 100][..]);
    assert!(code.contains(code.base() as usize + 99));
    assert!(!code.contains(code.base() as usize + 100));
    if cfg!(target_os = "linux") {
        let perms = permissions_of(code.base() as usize).expect("mapping listed");
        assert!(perms.starts_with("r-x"), "code mapped {perms}");
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
#[test]
fn images_are_copy_on_write_and_reset() {
    let offset = page();
    let data: Vec<u8> = (0..page() + 10).map(|i| (i % 251) as u8 + 1).collect();
    let image = MemoryImage::new(&data, offset)
        .unwrap()
        .expect("memfd available on Linux");
    assert_eq!(image.len(), 2 * page());
    assert_eq!(image.offset(), offset);

    let mut a = Mmap::reserve(8 * page()).unwrap();
    let mut b = Mmap::reserve(8 * page()).unwrap();
    for map in [&mut a, &mut b] {
        map.make_accessible(0, 4 * page()).unwrap();
        // SAFETY: no references into the mappings exist.
        unsafe { image.map_into(map, 0).unwrap() };
    }
    let at = |map: &Mmap, i: usize| {
        // SAFETY: callers read inside the accessible first four pages.
        unsafe { map.as_ptr().add(i).read() }
    };
    for map in [&a, &b] {
        assert_eq!(at(map, 0), 0, "before the image: zero");
        assert_eq!(at(map, offset), data[0]);
        assert_eq!(at(map, offset + page() + 9), data[page() + 9]);
        assert_eq!(at(map, offset + page() + 10), 0, "tail of the last page");
    }

    // A write through `a` is private to `a`.
    // SAFETY: inside `a`'s accessible image range.
    unsafe { a.as_ptr().add(offset).write(0xee) };
    assert_eq!(at(&a, offset), 0xee);
    assert_eq!(at(&b, offset), data[0], "the other instance is unchanged");
    // A third mapping shows the file unchanged too.
    let mut c = Mmap::accessible(4 * page()).unwrap();
    // SAFETY: no references into `c`.
    unsafe { image.map_into(&mut c, 0).unwrap() };
    assert_eq!(at(&c, offset), data[0], "the memfd is unchanged");

    // Decommitting drops `a`'s private copy: the image shows again.
    // SAFETY: no references into `a`.
    unsafe { a.decommit(0, 4 * page()).unwrap() };
    assert_eq!(at(&a, offset), data[0]);

    // Removing the image leaves zero pages, still accessible.
    // SAFETY: no references into `b`.
    unsafe { image.remove_from(&mut b, 0).unwrap() };
    assert_eq!(at(&b, offset), 0);
    // SAFETY: inside `b`'s accessible range.
    unsafe { b.as_ptr().add(offset).write(1) };

    // The image must fit the mapping.
    let mut small = Mmap::reserve(2 * page()).unwrap();
    // SAFETY: no references into `small`.
    let err = unsafe { image.map_into(&mut small, 0) }.unwrap_err();
    assert!(matches!(err, SysError::BadRange { .. }), "{err}");
}

#[test]
fn code_registration_rejects_overlaps_and_unregisters_on_drop() {
    let lookup: CodeLookup = alloc::sync::Arc::new(|_| None);
    // Addresses never mapped by this process's tests: registration does not
    // touch the memory, only the registry.
    let base = 0x7000_0000_usize;
    let r: CodeRegistration = register_code(base, 0x100, lookup.clone()).unwrap();
    assert!(is_wasm_pc(base + 0xff));
    assert!(!is_wasm_pc(base + 0x100));
    assert_eq!(
        register_code(base + 0x80, 0x100, lookup.clone()).unwrap_err(),
        SysError::Overlap {
            start: base + 0x80,
            len: 0x100
        }
    );
    assert!(register_code(base, 0, lookup.clone()).is_err());
    assert!(register_code(usize::MAX, 2, lookup.clone()).is_err());
    drop(r);
    assert!(!is_wasm_pc(base));
    let again = register_code(base + 0x80, 0x100, lookup).unwrap();
    drop(again);
}

#[test]
fn raise_trap_outside_wasm_is_an_error() {
    // SAFETY: there is no activation, so this returns at once.
    let err = unsafe { raise_trap(kiln_environ::TrapCode::Interrupt) }.unwrap_err();
    assert_eq!(err, SysError::NoActivation);
}

#[cfg(not(all(
    target_os = "linux",
    any(
        target_arch = "x86_64",
        target_arch = "aarch64",
        target_arch = "s390x",
        target_arch = "riscv64"
    )
)))]
#[test]
fn traps_report_unsupported_elsewhere() {
    assert!(matches!(Traps::init(), Err(SysError::Unsupported(_))));
    // The entry point exists on every host (the runtime's code compiles
    // everywhere); it just cannot be reached without a `Traps`.
    let _entry: unsafe fn(Traps, WasmEntry, usize, usize, usize, usize) -> Result<(), TrapRecord> =
        Traps::call_wasm;
}

/// Hand-assembled x86_64 test functions (C ABI, four integer arguments).
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
mod machine_code {
    /// `mov eax, [rdi]; ret`: loads from the address in the first argument.
    pub(super) const LOAD: &[u8] = &[0x8b, 0x07, 0xc3];
    /// `mov eax, edi; xor edx, edx; div esi; ret`: a0 / a1 (unsigned); the
    /// `div` raises SIGFPE when a1 is 0.
    pub(super) const DIVIDE: &[u8] = &[0x89, 0xf8, 0x31, 0xd2, 0xf7, 0xf6, 0xc3];
    pub(super) const DIVIDE_AT: usize = 4;
    /// `ud2` (SIGILL).
    pub(super) const ILLEGAL: &[u8] = &[0x0f, 0x0b];
    pub(super) const ILLEGAL_AT: usize = 0;
    /// `push rbx; mov rbx, rdi; call rsi; mov eax, [rbx]; pop rbx; ret`:
    /// calls the host function in a1 (with a0 as its argument), then loads
    /// from a0.
    pub(super) const CALL_THEN_LOAD: &[u8] =
        &[0x53, 0x48, 0x89, 0xfb, 0xff, 0xd6, 0x8b, 0x03, 0x5b, 0xc3];
    pub(super) const CALL_THEN_LOAD_AT: usize = 6;
    /// `xor ebx,ebx; xor ebp,ebp; xor r12d,r12d; xor r13d,r13d;
    ///  xor r14d,r14d; xor r15d,r15d; mov eax,[rdi]; ret`: clobbers every
    /// callee-saved register, then loads from a0.
    pub(super) const CLOBBER_THEN_LOAD: &[u8] = &[
        0x31, 0xdb, 0x31, 0xed, 0x45, 0x31, 0xe4, 0x45, 0x31, 0xed, 0x45, 0x31, 0xf6, 0x45, 0x31,
        0xff, 0x8b, 0x07, 0xc3,
    ];
    pub(super) const CLOBBER_THEN_LOAD_AT: usize = 16;
}

#[cfg(all(
    target_os = "linux",
    any(target_arch = "aarch64", target_arch = "riscv64")
))]
/// Encodes instruction words as little-endian bytes.
macro_rules! words {
    ($($w:expr),* $(,)?) => {{
        const W: &[u32] = &[$($w),*];
        const B: [u8; W.len() * 4] = {
            let mut b = [0u8; W.len() * 4];
            let mut i = 0;
            while i < W.len() {
                let le = W[i].to_le_bytes();
                b[4 * i] = le[0];
                b[4 * i + 1] = le[1];
                b[4 * i + 2] = le[2];
                b[4 * i + 3] = le[3];
                i += 1;
            }
            b
        };
        &B
    }};
}

/// Hand-assembled aarch64 test functions (AAPCS64, four integer arguments).
#[cfg(all(target_os = "linux", target_arch = "aarch64"))]
mod machine_code {
    /// `ldr w0, [x0]; ret`.
    pub(super) const LOAD: &[u8] = words![0xb940_0000, 0xd65f_03c0];
    /// `udiv w0, w0, w1; cbz w1, 1f; ret; 1: udf #0`: aarch64 division does
    /// not fault, so code checks and traps with `udf` (SIGILL).
    pub(super) const DIVIDE: &[u8] = words![0x1ac1_0800, 0x3400_0041, 0xd65f_03c0, 0x0000_0000];
    pub(super) const DIVIDE_AT: usize = 12;
    /// `udf #0` (SIGILL).
    pub(super) const ILLEGAL: &[u8] = words![0x0000_0000];
    pub(super) const ILLEGAL_AT: usize = 0;
    /// `stp x29, x30, [sp, #-32]!; mov x29, sp; str x19, [sp, #16];
    ///  mov x19, x0; blr x1; ldr w0, [x19]; ldr x19, [sp, #16];
    ///  ldp x29, x30, [sp], #32; ret`.
    pub(super) const CALL_THEN_LOAD: &[u8] = words![
        0xa9be_7bfd,
        0x9100_03fd,
        0xf900_0bf3,
        0xaa00_03f3,
        0xd63f_0020,
        0xb940_0260,
        0xf940_0bf3,
        0xa8c2_7bfd,
        0xd65f_03c0,
    ];
    pub(super) const CALL_THEN_LOAD_AT: usize = 20;
    /// `mov x19..x29, #0; fmov d8, xzr; fmov d9, xzr; fmov d15, xzr;
    ///  ldr w0, [x0]; ret`.
    pub(super) const CLOBBER_THEN_LOAD: &[u8] = words![
        0xd280_0013,
        0xd280_0014,
        0xd280_0015,
        0xd280_0016,
        0xd280_0017,
        0xd280_0018,
        0xd280_0019,
        0xd280_001a,
        0xd280_001b,
        0xd280_001c,
        0xd280_001d,
        0x9e67_03e8,
        0x9e67_03e9,
        0x9e67_03ef,
        0xb940_0000,
        0xd65f_03c0,
    ];
    pub(super) const CLOBBER_THEN_LOAD_AT: usize = 56;
}

/// Hand-assembled s390x test functions (ELF ABI: arguments in r2..r5,
/// result in r2, return through r14). Trap sites of SIGILL/SIGFPE are on
/// the instruction's last byte, as Cranelift records them (the saved PSW
/// is past the instruction).
#[cfg(all(target_os = "linux", target_arch = "s390x"))]
mod machine_code {
    /// `l %r2, 0(%r2); br %r14`.
    pub(super) const LOAD: &[u8] = &[0x58, 0x20, 0x20, 0x00, 0x07, 0xfe];
    /// `lr %r1, %r2; lhi %r0, 0; dlr %r0, %r3; lgr %r2, %r1; br %r14`:
    /// a0 / a1 (unsigned); `dlr` raises SIGFPE when a1 is 0.
    pub(super) const DIVIDE: &[u8] = &[
        0x18, 0x12, 0xa7, 0x08, 0x00, 0x00, 0xb9, 0x97, 0x00, 0x03, 0xb9, 0x04, 0x00, 0x21, 0x07,
        0xfe,
    ];
    pub(super) const DIVIDE_AT: usize = 9;
    /// `.word 0` (operation exception, SIGILL).
    pub(super) const ILLEGAL: &[u8] = &[0x00, 0x00];
    pub(super) const ILLEGAL_AT: usize = 1;
    /// `stmg %r13, %r15, 104(%r15); lgr %r1, %r15; aghi %r15, -160;
    ///  stg %r1, 0(%r15); lgr %r13, %r2; basr %r14, %r3; l %r2, 0(%r13);
    ///  lmg %r13, %r15, 264(%r15); br %r14`: calls a1 with a0, then loads
    /// from a0.
    pub(super) const CALL_THEN_LOAD: &[u8] = &[
        0xeb, 0xdf, 0xf0, 0x68, 0x00, 0x24, 0xb9, 0x04, 0x00, 0x1f, 0xa7, 0xfb, 0xff, 0x60, 0xe3,
        0x10, 0xf0, 0x00, 0x00, 0x24, 0xb9, 0x04, 0x00, 0xd2, 0x0d, 0xe3, 0x58, 0x20, 0xd0, 0x00,
        0xeb, 0xdf, 0xf1, 0x08, 0x00, 0x04, 0x07, 0xfe,
    ];
    pub(super) const CALL_THEN_LOAD_AT: usize = 26;
    /// `lghi %r6..%r13, 0; lzdr %f8; lzdr %f9; lzdr %f15; l %r2, 0(%r2);
    ///  br %r14`: clobbers callee-saved registers, then loads from a0.
    pub(super) const CLOBBER_THEN_LOAD: &[u8] = &[
        0xa7, 0x69, 0x00, 0x00, 0xa7, 0x79, 0x00, 0x00, 0xa7, 0x89, 0x00, 0x00, 0xa7, 0x99, 0x00,
        0x00, 0xa7, 0xa9, 0x00, 0x00, 0xa7, 0xb9, 0x00, 0x00, 0xa7, 0xc9, 0x00, 0x00, 0xa7, 0xd9,
        0x00, 0x00, 0xb3, 0x75, 0x00, 0x80, 0xb3, 0x75, 0x00, 0x90, 0xb3, 0x75, 0x00, 0xf0, 0x58,
        0x20, 0x20, 0x00, 0x07, 0xfe,
    ];
    pub(super) const CLOBBER_THEN_LOAD_AT: usize = 44;
}

/// Hand-assembled riscv64 test functions (LP64D, four integer arguments;
/// no compressed instructions).
#[cfg(all(target_os = "linux", target_arch = "riscv64"))]
mod machine_code {
    /// `lw a0, 0(a0); ret`.
    pub(super) const LOAD: &[u8] = words![0x0005_2503, 0x0000_8067];
    /// `divuw a0, a0, a1; beqz a1, 1f; ret; 1: unimp`: riscv64 division
    /// does not fault, so code checks and traps with `unimp` (SIGILL).
    pub(super) const DIVIDE: &[u8] = words![0x02b5_553b, 0x0005_8463, 0x0000_8067, 0xc000_1073];
    pub(super) const DIVIDE_AT: usize = 12;
    /// `unimp` (SIGILL).
    pub(super) const ILLEGAL: &[u8] = words![0xc000_1073];
    pub(super) const ILLEGAL_AT: usize = 0;
    /// `addi sp, sp, -32; sd ra, 24(sp); sd s0, 16(sp); sd s1, 8(sp);
    ///  addi s0, sp, 16; mv s1, a0; jalr a1; lw a0, 0(s1); ld s1, 8(sp);
    ///  ld s0, 16(sp); ld ra, 24(sp); addi sp, sp, 32; ret`.
    pub(super) const CALL_THEN_LOAD: &[u8] = words![
        0xfe01_0113,
        0x0011_3c23,
        0x0081_3823,
        0x0091_3423,
        0x0101_0413,
        0x0005_0493,
        0x0005_80e7,
        0x0004_a503,
        0x0081_3483,
        0x0101_3403,
        0x0181_3083,
        0x0201_0113,
        0x0000_8067,
    ];
    pub(super) const CALL_THEN_LOAD_AT: usize = 28;
    /// `li s0..s11, 0; fmv.d.x fs0, zero; fmv.d.x fs1, zero;
    ///  fmv.d.x fs11, zero; lw a0, 0(a0); ret`.
    pub(super) const CLOBBER_THEN_LOAD: &[u8] = words![
        0x0000_0413,
        0x0000_0493,
        0x0000_0913,
        0x0000_0993,
        0x0000_0a13,
        0x0000_0a93,
        0x0000_0b13,
        0x0000_0b93,
        0x0000_0c13,
        0x0000_0c93,
        0x0000_0d13,
        0x0000_0d93,
        0xf200_0453,
        0xf200_04d3,
        0xf200_0dd3,
        0x0005_2503,
        0x0000_8067,
    ];
    pub(super) const CLOBBER_THEN_LOAD_AT: usize = 60;
}

#[cfg(all(
    target_os = "linux",
    any(
        target_arch = "x86_64",
        target_arch = "aarch64",
        target_arch = "s390x",
        target_arch = "riscv64"
    )
))]
mod native {
    //! Trap tests with hand-assembled machine code.

    use alloc::sync::Arc;
    use core::cell::Cell;
    use std::prelude::rust_2024::*;
    use std::thread_local;

    use kiln_environ::TrapCode;

    use super::super::*;
    use super::machine_code::*;

    /// Code in executable memory, registered as wasm whose only trapping
    /// instruction is at `trap_at` and raises `code`.
    struct Wasm {
        // Field order: unregister before unmapping.
        _registration: CodeRegistration,
        code: CodeMemory,
    }

    impl Wasm {
        fn new(bytes: &[u8], trap_at: usize, code: TrapCode) -> Wasm {
            let memory = CodeMemory::new(bytes).unwrap();
            let lookup: CodeLookup = Arc::new(move |offset| (offset == trap_at).then_some(code));
            let registration = register_code(memory.base() as usize, memory.len(), lookup).unwrap();
            Wasm {
                _registration: registration,
                code: memory,
            }
        }

        fn entry(&self) -> WasmEntry {
            // SAFETY: the code memory holds a complete function of this
            // architecture that follows the C ABI for four integer arguments.
            unsafe { core::mem::transmute::<*const u8, WasmEntry>(self.code.base()) }
        }

        fn pc(&self, offset: usize) -> usize {
            self.code.base() as usize + offset
        }
    }

    /// Checks a SIGSEGV's reported address: exact, except that s390x
    /// hardware reports only the page (its translation-exception
    /// identification has no lower bits; qemu-user gives the exact one).
    fn assert_fault_addr(reported: Option<usize>, expected: usize) {
        let page = if cfg!(target_arch = "s390x") {
            !0xfff
        } else {
            !0
        };
        assert_eq!(reported.map(|a| a & page), Some(expected & page));
    }

    /// A reservation whose first page is accessible and the rest a guard.
    fn memory() -> Mmap {
        let mut map = Mmap::reserve(4 * page_size()).unwrap();
        map.make_accessible(0, page_size()).unwrap();
        map
    }

    #[test]
    fn load_from_guard_page_traps_and_repeats() {
        let traps = Traps::init().unwrap();
        let wasm = Wasm::new(LOAD, 0, TrapCode::MemoryOutOfBounds);
        let mem = memory();
        let guard = mem.as_ptr() as usize + 2 * page_size() + 12;
        for _ in 0..3 {
            // SAFETY: LOAD reads from a0; a fault there is a trap.
            let trap = unsafe { traps.call_wasm(wasm.entry(), guard, 0, 0, 0) }.unwrap_err();
            assert_eq!(trap.code, TrapCode::MemoryOutOfBounds);
            assert_eq!(trap.pc, Some(wasm.pc(0)));
            assert_fault_addr(trap.fault_addr, guard);
            assert!(trap.fp.is_some());
            assert_ne!(trap.entry_fp, 0);
        }
        // An in-bounds load returns normally.
        // SAFETY: as above; the address is accessible.
        unsafe { traps.call_wasm(wasm.entry(), mem.as_ptr() as usize, 0, 0, 0) }.unwrap();
        assert!(super::super::traps::current().is_null());
    }

    #[test]
    fn callee_saved_registers_survive_a_trap() {
        let traps = Traps::init().unwrap();
        let wasm = Wasm::new(
            CLOBBER_THEN_LOAD,
            CLOBBER_THEN_LOAD_AT,
            TrapCode::MemoryOutOfBounds,
        );
        let mem = memory();
        let guard = mem.as_ptr() as usize + 3 * page_size();
        // Values live across the call, likely in callee-saved registers.
        let mut acc: Vec<u64> = (0..8).map(|i| core::hint::black_box(i * 0x1111)).collect();
        for round in 0..10u64 {
            let keep = core::hint::black_box(round.wrapping_mul(0x9e37_79b9));
            // SAFETY: the code clobbers only callee-saved registers (which
            // the trampoline restores) and reads from a0.
            let trap = unsafe { traps.call_wasm(wasm.entry(), guard, 0, 0, 0) }.unwrap_err();
            assert_eq!(trap.pc, Some(wasm.pc(CLOBBER_THEN_LOAD_AT)));
            assert_eq!(keep, round.wrapping_mul(0x9e37_79b9));
            acc.iter_mut().for_each(|a| *a += keep);
        }
        assert_eq!(acc.len(), 8);
    }

    #[test]
    fn divide_by_zero_traps() {
        let traps = Traps::init().unwrap();
        let wasm = Wasm::new(DIVIDE, DIVIDE_AT, TrapCode::IntegerDivisionByZero);
        // SAFETY: DIVIDE only uses its register arguments.
        unsafe { traps.call_wasm(wasm.entry(), 10, 2, 0, 0) }.unwrap();
        // SAFETY: as above.
        let trap = unsafe { traps.call_wasm(wasm.entry(), 10, 0, 0, 0) }.unwrap_err();
        assert_eq!(trap.code, TrapCode::IntegerDivisionByZero);
        assert_eq!(trap.pc, Some(wasm.pc(DIVIDE_AT)));
    }

    #[test]
    fn illegal_instruction_traps() {
        let traps = Traps::init().unwrap();
        let wasm = Wasm::new(ILLEGAL, ILLEGAL_AT, TrapCode::UnreachableCodeReached);
        // SAFETY: ILLEGAL faults at once; that is a registered trap.
        let trap = unsafe { traps.call_wasm(wasm.entry(), 0, 0, 0, 0) }.unwrap_err();
        assert_eq!(trap.code, TrapCode::UnreachableCodeReached);
        assert_eq!(trap.pc, Some(wasm.pc(ILLEGAL_AT)));
    }

    #[test]
    fn stack_overflow_before_a_frame_keeps_the_return_address() {
        let traps = Traps::init().unwrap();
        // As if the first instruction were a prologue's stack check.
        let wasm = Wasm::new(ILLEGAL, ILLEGAL_AT, TrapCode::StackOverflow);
        let mut trace = TraceBuf::new();
        // SAFETY: ILLEGAL faults at once; `trace` is ours for the call.
        let trap =
            unsafe { traps.call_wasm_traced(wasm.entry(), 0, 0, 0, 0, &mut trace) }.unwrap_err();
        assert_eq!(trap.code, TrapCode::StackOverflow);
        // ILLEGAL makes no frame, and the walk stops at the trampoline that
        // called it. On s390x, whose stack check comes before the frame,
        // the return address (r14, into the trampoline) is recorded anyway.
        if cfg!(target_arch = "s390x") {
            assert_eq!(trace.len, 1);
            assert_ne!(trace.pcs[0], 0);
        } else {
            assert_eq!(trace.len, 0);
        }
    }

    thread_local! {
        static INNER: Cell<Option<(WasmEntry, usize)>> = const { Cell::new(None) };
        static INNER_RESULT: Cell<Option<Result<(), TrapRecord>>> = const { Cell::new(None) };
    }

    /// Host function called by CALL_THEN_LOAD: runs the wasm in INNER as a
    /// nested activation and stores its result.
    extern "C" fn host_calls_wasm(_a0: usize) {
        let traps = Traps::init().unwrap();
        let (entry, arg) = INNER.get().unwrap();
        // SAFETY: INNER holds a registered test function and its argument.
        let result = unsafe { traps.call_wasm(entry, arg, 0, 0, 0) };
        INNER_RESULT.set(Some(result));
    }

    #[test]
    fn nested_activations_unwind_to_the_innermost() {
        let traps = Traps::init().unwrap();
        let outer = Wasm::new(
            CALL_THEN_LOAD,
            CALL_THEN_LOAD_AT,
            TrapCode::MemoryOutOfBounds,
        );
        let inner = Wasm::new(LOAD, 0, TrapCode::MemoryOutOfBounds);
        let mem = memory();
        let ok = mem.as_ptr() as usize;
        let guard = ok + 2 * page_size();

        // host -> outer wasm -> host -> inner wasm (traps) -> back to the
        // host, which returns into outer wasm, which then traps itself.
        INNER.set(Some((inner.entry(), guard)));
        // SAFETY: CALL_THEN_LOAD calls a1 (a C-ABI function of one integer)
        // then loads from a0.
        let trap = unsafe {
            traps.call_wasm(
                outer.entry(),
                guard,
                host_calls_wasm as *const () as usize,
                0,
                0,
            )
        }
        .unwrap_err();
        let inner_trap = INNER_RESULT.take().unwrap().unwrap_err();
        assert_eq!(inner_trap.pc, Some(inner.pc(0)));
        assert_eq!(trap.pc, Some(outer.pc(CALL_THEN_LOAD_AT)));
        assert_fault_addr(trap.fault_addr, guard);

        // The inner one traps, the outer one finishes normally.
        // SAFETY: as above.
        unsafe {
            traps.call_wasm(
                outer.entry(),
                ok,
                host_calls_wasm as *const () as usize,
                0,
                0,
            )
        }
        .unwrap();
        assert!(INNER_RESULT.take().unwrap().is_err());
        assert!(super::super::traps::current().is_null());
    }

    /// Host function that raises a trap (it owns nothing to drop).
    extern "C" fn host_raises(_a0: usize) {
        // SAFETY: called from wasm inside an activation; this frame holds
        // nothing with a destructor.
        let _ = unsafe { raise_trap(TrapCode::Interrupt) };
    }

    #[test]
    fn raise_trap_unwinds_to_the_trampoline() {
        let traps = Traps::init().unwrap();
        let wasm = Wasm::new(
            CALL_THEN_LOAD,
            CALL_THEN_LOAD_AT,
            TrapCode::MemoryOutOfBounds,
        );
        let mem = memory();
        for _ in 0..3 {
            // SAFETY: CALL_THEN_LOAD calls a1; `host_raises` never returns.
            let trap = unsafe {
                traps.call_wasm(
                    wasm.entry(),
                    mem.as_ptr() as usize,
                    host_raises as *const () as usize,
                    0,
                    0,
                )
            }
            .unwrap_err();
            assert_eq!(trap.code, TrapCode::Interrupt);
            assert_eq!(trap.pc, None);
        }
        assert!(super::super::traps::current().is_null());
    }

    #[test]
    fn traps_work_on_other_threads() {
        let handles: Vec<_> = (0..3)
            .map(|_| {
                std::thread::spawn(|| {
                    let traps = Traps::init().unwrap();
                    let wasm = Wasm::new(LOAD, 0, TrapCode::MemoryOutOfBounds);
                    let mem = memory();
                    let guard = mem.as_ptr() as usize + page_size();
                    for _ in 0..100 {
                        // SAFETY: LOAD reads from a0.
                        let trap =
                            unsafe { traps.call_wasm(wasm.entry(), guard, 0, 0, 0) }.unwrap_err();
                        assert_fault_addr(trap.fault_addr, guard);
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
    }

    /// Environment variable that makes `crash_child` crash the process.
    const CHILD_VAR: &str = "KILN_SYS_TEST_CRASH";

    /// Not a test on its own: with `KILN_SYS_TEST_CRASH` set (by
    /// `faults_outside_wasm_are_not_traps`, in a child process) it faults
    /// outside registered wasm code, which must kill the process.
    #[test]
    fn crash_child() {
        let Ok(how) = std::env::var(CHILD_VAR) else {
            return;
        };
        let traps = Traps::init().unwrap();
        let mem = memory();
        let guard = mem.as_ptr().wrapping_add(2 * page_size());
        match how.as_str() {
            "host" => {
                // SAFETY: deliberately not: the read faults in host code
                // and must crash the process.
                let _ = unsafe { guard.read_volatile() };
            }
            "host-in-activation" => {
                let wasm = Wasm::new(
                    CALL_THEN_LOAD,
                    CALL_THEN_LOAD_AT,
                    TrapCode::MemoryOutOfBounds,
                );
                extern "C" fn faulting_host(addr: usize) {
                    // SAFETY: deliberately not: host code faults inside an
                    // activation; it is not wasm, so it must crash.
                    let _ = unsafe { (addr as *const u8).read_volatile() };
                }
                // SAFETY: CALL_THEN_LOAD calls a1 with a0.
                let _ = unsafe {
                    traps.call_wasm(
                        wasm.entry(),
                        guard as usize,
                        faulting_host as *const () as usize,
                        0,
                        0,
                    )
                };
            }
            "unregistered-illegal" => {
                let code = CodeMemory::new(ILLEGAL).unwrap();
                // SAFETY: a complete (trapping) function, deliberately not
                // registered: its SIGILL must kill the process, also where
                // returning from the handler would skip the instruction.
                let entry = unsafe { core::mem::transmute::<*const u8, WasmEntry>(code.base()) };
                // SAFETY: as above.
                let _ = unsafe { traps.call_wasm(entry, 0, 0, 0, 0) };
            }
            "unregistered-wasm" => {
                let code = CodeMemory::new(LOAD).unwrap();
                // SAFETY: a complete C-ABI function, deliberately not
                // registered: its fault must crash.
                let entry = unsafe { core::mem::transmute::<*const u8, WasmEntry>(code.base()) };
                // SAFETY: as above.
                let _ = unsafe { traps.call_wasm(entry, guard as usize, 0, 0, 0) };
            }
            _ => return,
        }
        // Reaching this means the fault was swallowed.
        std::process::exit(3);
    }

    #[test]
    fn faults_outside_wasm_are_not_traps() {
        use std::os::unix::process::ExitStatusExt;
        let exe = std::env::current_exe().unwrap();
        // Under user-mode emulation the child needs the emulator too, e.g.
        // KILN_SYS_TEST_RUNNER="qemu-aarch64 -L /usr/aarch64-linux-gnu".
        let runner = std::env::var("KILN_SYS_TEST_RUNNER").unwrap_or_default();
        let runner = runner.split_whitespace();
        for (how, signal) in [
            ("host", libc::SIGSEGV),
            ("host-in-activation", libc::SIGSEGV),
            ("unregistered-wasm", libc::SIGSEGV),
            ("unregistered-illegal", libc::SIGILL),
        ] {
            let mut command = match runner.clone().next() {
                Some(program) => {
                    let mut c = std::process::Command::new(program);
                    c.args(runner.clone().skip(1)).arg(&exe);
                    c
                }
                None => std::process::Command::new(&exe),
            };
            let out = command
                .args([
                    "--exact",
                    "runtime::sys::tests::native::crash_child",
                    "--test-threads=1",
                    "--nocapture",
                ])
                .env(CHILD_VAR, how)
                .output()
                .unwrap();
            assert_eq!(
                out.status.signal(),
                Some(signal),
                "{how}: child should die of signal {signal}, got {:?}\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}
