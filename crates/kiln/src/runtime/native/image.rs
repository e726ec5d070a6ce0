//! Copy-on-write initial memories for native modules.
//!
//! When every active data segment of a defined memory has a constant
//! offset and fits in the memory's minimum size, the segments are laid out
//! once, at compile time, in a [`MemoryImage`]. Each instance then maps that
//! image over its fresh memory instead of copying the segments: one `mmap`
//! per instance, pages shared until written.
//!
//! Anything else (an offset read from a global, a segment that would trap,
//! a sparse layout, a host without `memfd`) falls back to copying, which is
//! always correct; the image is only a faster way to the same bytes.

use crate::prelude::*;
use crate::runtime::sys::{MemoryImage, page_size};
use kiln_environ::{ConstExpr, ConstOp, DataSegmentKind, ModuleTranslation};

/// Images larger than this many bytes beyond twice their data are not
/// built: a few bytes at each end of a huge memory would otherwise make an
/// image mostly of zeros, which costs memory and page-table work for
/// nothing.
const SPARSE_SLACK: u64 = 1 << 20;

/// The image of each defined memory, by defined index; `None` where the
/// segments must be copied.
pub(crate) fn build_images(t: &ModuleTranslation) -> Box<[Option<MemoryImage>]> {
    let imported = t.num_imported_memories as usize;
    (imported..t.memories.len())
        .map(|m| build_image(t, m as u32).unwrap_or(None))
        .collect()
}

/// The image of memory `memory`, or `None` (or an error, treated alike)
/// when its segments must be copied.
fn build_image(
    t: &ModuleTranslation,
    memory: u32,
) -> Result<Option<MemoryImage>, crate::runtime::sys::SysError> {
    let ty = t.memories[memory as usize];
    if ty.shared {
        return Ok(None);
    }
    let Some(min_bytes) = ty.pages_to_bytes(ty.minimum) else {
        return Ok(None);
    };
    // Each segment's placement, in order; any doubt means no image.
    let mut placed = Vec::new();
    let (mut lo, mut hi, mut data) = (u64::MAX, 0u64, 0u64);
    for (i, seg) in t.datas.iter().enumerate() {
        let DataSegmentKind::Active { memory: m, offset } = &seg.kind else {
            continue;
        };
        if *m != memory {
            continue;
        }
        let Some(start) = constant_offset(offset) else {
            return Ok(None);
        };
        let len = t.data_bytes(i as u32).len() as u64;
        let end = start + len;
        if end > min_bytes {
            // Instantiation must trap at this segment: the copying path
            // does that, after the segments before it.
            return Ok(None);
        }
        if len == 0 {
            continue;
        }
        lo = lo.min(start);
        hi = hi.max(end);
        data += len;
        placed.push((start, i));
    }
    if placed.is_empty() {
        return Ok(None);
    }
    let page = page_size() as u64;
    let lo = lo / page * page;
    let span = hi - lo;
    if span > data.saturating_mul(2).saturating_add(SPARSE_SLACK) {
        return Ok(None);
    }
    // The image is page-rounded: it must still lie inside the memory.
    if hi.next_multiple_of(page) > min_bytes {
        return Ok(None);
    }
    let (Ok(lo_usize), Ok(span_usize)) = (usize::try_from(lo), usize::try_from(span)) else {
        return Ok(None);
    };
    let mut bytes = vec![0u8; span_usize];
    // Later segments overwrite earlier ones, as copying in order would.
    for (start, i) in placed {
        let src = t.data_bytes(i as u32);
        let at = (start - lo) as usize;
        bytes[at..at + src.len()].copy_from_slice(src);
    }
    MemoryImage::new(&bytes, lo_usize)
}

/// The value of an offset expression made only of integer constants and
/// arithmetic (no `global.get`), as the unsigned offset it denotes: `i32`
/// for 32-bit memories, `i64` for memory64 (validation keeps one type per
/// expression).
fn constant_offset(expr: &ConstExpr) -> Option<u64> {
    // Each value with its width: 32-bit arithmetic wraps at 32 bits.
    let mut stack: Vec<(u64, bool)> = Vec::with_capacity(2);
    for op in &expr.ops {
        match *op {
            ConstOp::I32Const(v) => stack.push((u64::from(v as u32), false)),
            ConstOp::I64Const(v) => stack.push((v as u64, true)),
            ConstOp::I32Add
            | ConstOp::I32Sub
            | ConstOp::I32Mul
            | ConstOp::I64Add
            | ConstOp::I64Sub
            | ConstOp::I64Mul => {
                let (b, _) = stack.pop()?;
                let (a, wide) = stack.pop()?;
                let v = match op {
                    ConstOp::I32Add | ConstOp::I64Add => a.wrapping_add(b),
                    ConstOp::I32Sub | ConstOp::I64Sub => a.wrapping_sub(b),
                    _ => a.wrapping_mul(b),
                };
                stack.push((if wide { v } else { v & 0xffff_ffff }, wide));
            }
            _ => return None,
        }
    }
    match stack.as_slice() {
        [(v, _)] => Some(*v),
        _ => None,
    }
}

#[cfg(all(test, feature = "wat"))]
mod tests {
    use super::*;

    fn translate(wat: &str) -> ModuleTranslation {
        let wasm = wat::parse_str(wat).unwrap();
        kiln_environ::translate_module(&wasm, kiln_environ::default_features()).unwrap()
    }

    #[test]
    fn constant_segments_make_an_image() {
        let t = translate(
            r#"(module (memory 2)
                 (data (i32.const 70000) "abc")
                 (data (i32.add (i32.const 70000) (i32.const 1)) "Z"))"#,
        );
        let images = build_images(&t);
        let image = images[0].as_ref().expect("an image");
        assert_eq!(image.offset() % page_size(), 0);
        assert!(image.offset() <= 70000);
        assert!(image.offset() + image.len() >= 70003);
    }

    #[test]
    fn no_image_when_copying_is_required() {
        // Offset from a global, a segment past the minimum, no segments,
        // and an imported memory: all copy (or have nothing to do).
        for wat in [
            r#"(module (import "m" "g" (global i32)) (memory 1) (data (global.get 0) "x"))"#,
            r#"(module (memory 1) (data (i32.const 65535) "xy"))"#,
            r#"(module (memory 1))"#,
            r#"(module (memory 1) (data (i32.const 0) ""))"#,
        ] {
            let t = translate(wat);
            assert!(build_images(&t).iter().all(Option::is_none), "{wat}");
        }
        let t = translate(r#"(module (import "m" "m" (memory 1)) (data (i32.const 0) "x"))"#);
        assert!(build_images(&t).is_empty());
    }

    #[test]
    fn sparse_layouts_are_copied() {
        let t = translate(
            r#"(module (memory 100)
                 (data (i32.const 0) "a")
                 (data (i32.const 6000000) "b"))"#,
        );
        assert!(build_images(&t)[0].is_none());
    }

    #[test]
    fn constant_offsets_wrap_at_their_width() {
        let e = |ops| ConstExpr { ops };
        assert_eq!(
            constant_offset(&e(vec![ConstOp::I32Const(-1)])),
            Some(u64::from(u32::MAX))
        );
        assert_eq!(
            constant_offset(&e(vec![
                ConstOp::I32Const(-1),
                ConstOp::I32Const(2),
                ConstOp::I32Add
            ])),
            Some(1)
        );
        // memory64 offsets are i64 and wrap at 64 bits.
        assert_eq!(
            constant_offset(&e(vec![
                ConstOp::I64Const(1 << 40),
                ConstOp::I64Const(-1),
                ConstOp::I64Add
            ])),
            Some((1 << 40) - 1)
        );
        assert_eq!(
            constant_offset(&e(vec![
                ConstOp::I32Const(3),
                ConstOp::I32Const(4),
                ConstOp::I32Mul
            ])),
            Some(12)
        );
        assert_eq!(constant_offset(&e(vec![ConstOp::GlobalGet(0)])), None);
    }
}
