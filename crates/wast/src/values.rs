//! Script values: turning `(i32.const 1)`-style arguments into [`Val`]s and
//! checking results against expected patterns (NaN patterns, per-lane v128
//! patterns, references).

use kiln::{AnyRef, ExternRef, Store, Val};
use wast::core::{AbstractHeapType, HeapType, NanPattern, V128Pattern, WastArgCore, WastRetCore};
use wast::token::{F32, F64};
use wast::{WastArg, WastRet};

/// The payload type of the host references the scripts create with
/// `(ref.extern N)`.
pub(crate) type HostRefPayload = u32;

/// Builds the value a script argument denotes.
pub(crate) fn arg_to_val(store: &mut Store<()>, arg: &WastArg<'_>) -> Result<Val, String> {
    let core = match arg {
        WastArg::Core(core) => core,
        _ => return Err("component-model arguments are not supported".to_string()),
    };
    Ok(match core {
        WastArgCore::I32(v) => Val::I32(*v),
        WastArgCore::I64(v) => Val::I64(*v),
        WastArgCore::F32(v) => Val::F32(v.bits),
        WastArgCore::F64(v) => Val::F64(v.bits),
        WastArgCore::V128(v) => Val::V128(u128::from_le_bytes(v.to_le_bytes())),
        WastArgCore::RefNull(heap) => match null_kind(heap) {
            Some(RefKind::Func) => Val::FuncRef(None),
            Some(RefKind::Extern) => Val::ExternRef(None),
            Some(RefKind::Exn) => Val::ExnRef(None),
            Some(RefKind::Any) => Val::AnyRef(None),
            None => return Err(format!("unsupported null reference type {heap:?}")),
        },
        WastArgCore::RefExtern(n) => {
            let payload: HostRefPayload = *n;
            Val::ExternRef(Some(ExternRef::new(&mut *store, payload)))
        }
        // A host value in the `any` hierarchy: an `externref` made
        // internal, which changes no bits.
        WastArgCore::RefHost(n) => {
            let payload: HostRefPayload = *n;
            let r = ExternRef::new(&mut *store, payload);
            Val::AnyRef(Some(AnyRef::convert_extern(&*store, r)))
        }
    })
}

/// The reference hierarchies Kiln implements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RefKind {
    Func,
    Extern,
    Exn,
    Any,
}

fn null_kind(heap: &HeapType<'_>) -> Option<RefKind> {
    match heap {
        HeapType::Abstract { shared: false, ty } => match ty {
            AbstractHeapType::Func | AbstractHeapType::NoFunc => Some(RefKind::Func),
            AbstractHeapType::Extern | AbstractHeapType::NoExtern => Some(RefKind::Extern),
            AbstractHeapType::Exn | AbstractHeapType::NoExn => Some(RefKind::Exn),
            AbstractHeapType::Any
            | AbstractHeapType::Eq
            | AbstractHeapType::I31
            | AbstractHeapType::Struct
            | AbstractHeapType::Array
            | AbstractHeapType::None => Some(RefKind::Any),
            _ => None,
        },
        _ => None,
    }
}

/// Checks one actual result against one expected pattern. On mismatch,
/// returns a short description of both.
pub(crate) fn match_result(
    store: &Store<()>,
    actual: &Val,
    expected: &WastRet<'_>,
) -> Result<(), String> {
    let expected = match expected {
        WastRet::Core(core) => core,
        _ => return Err("component-model results are not supported".to_string()),
    };
    if matches_core(store, actual, expected)? {
        Ok(())
    } else {
        Err(format!(
            "expected {}, got {}",
            describe_expected(expected),
            describe_val(store, actual)
        ))
    }
}

fn matches_core(
    store: &Store<()>,
    actual: &Val,
    expected: &WastRetCore<'_>,
) -> Result<bool, String> {
    Ok(match (expected, actual) {
        (WastRetCore::I32(e), Val::I32(a)) => e == a,
        (WastRetCore::I64(e), Val::I64(a)) => e == a,
        (WastRetCore::F32(e), Val::F32(a)) => f32_matches(e, *a),
        (WastRetCore::F64(e), Val::F64(a)) => f64_matches(e, *a),
        (WastRetCore::V128(e), Val::V128(a)) => v128_matches(e, *a),
        (WastRetCore::RefNull(heap), Val::FuncRef(f)) => {
            f.is_none()
                && heap
                    .as_ref()
                    .is_none_or(|h| null_kind(h) == Some(RefKind::Func))
        }
        (WastRetCore::RefNull(heap), Val::ExternRef(r)) => {
            r.is_none()
                && heap
                    .as_ref()
                    .is_none_or(|h| null_kind(h) == Some(RefKind::Extern))
        }
        (WastRetCore::RefNull(heap), Val::ExnRef(r)) => {
            r.is_none()
                && heap
                    .as_ref()
                    .is_none_or(|h| null_kind(h) == Some(RefKind::Exn))
        }
        (WastRetCore::RefNull(heap), Val::AnyRef(r)) => {
            r.is_none()
                && heap
                    .as_ref()
                    .is_none_or(|h| null_kind(h) == Some(RefKind::Any))
        }
        (WastRetCore::RefAny, Val::AnyRef(r)) => r.is_some(),
        (WastRetCore::RefEq, Val::AnyRef(r)) => r.is_some_and(|r| r.is_eqref(store)),
        (WastRetCore::RefI31, Val::AnyRef(r)) => r.is_some_and(|r| r.is_i31()),
        (WastRetCore::RefStruct, Val::AnyRef(r)) => r.is_some_and(|r| r.is_struct(store)),
        (WastRetCore::RefArray, Val::AnyRef(r)) => r.is_some_and(|r| r.is_array(store)),
        (WastRetCore::RefHost(n), Val::AnyRef(Some(r))) => {
            extern_payload(store, &ExternRef::convert_any(store, *r)) == Some(*n)
        }
        (WastRetCore::RefExtern(expected), Val::ExternRef(Some(r))) => match expected {
            None => true,
            Some(n) => extern_payload(store, r) == Some(*n),
        },
        // Function identity is not observable through the API in a way a
        // script can name, so any non-null funcref matches `ref.func`.
        (WastRetCore::RefFunc(_), Val::FuncRef(f)) => f.is_some(),
        (WastRetCore::Either(options), _) => {
            for option in options {
                if matches_core(store, actual, option)? {
                    return Ok(true);
                }
            }
            false
        }
        (WastRetCore::RefI31Shared, _) => {
            return Err("shared references (shared-everything threads) are not supported".into());
        }
        _ => false,
    })
}

fn extern_payload(store: &Store<()>, r: &ExternRef) -> Option<HostRefPayload> {
    r.data(store)?.downcast_ref::<HostRefPayload>().copied()
}

const F32_CANONICAL_NAN: u32 = 0x7fc0_0000;
const F64_CANONICAL_NAN: u64 = 0x7ff8_0000_0000_0000;

/// Canonical NaN: quiet bit set, payload zero, either sign. Arithmetic NaN:
/// quiet bit set, any payload, either sign.
fn f32_matches(expected: &NanPattern<F32>, bits: u32) -> bool {
    match expected {
        NanPattern::CanonicalNan => bits & 0x7fff_ffff == F32_CANONICAL_NAN,
        NanPattern::ArithmeticNan => bits & F32_CANONICAL_NAN == F32_CANONICAL_NAN,
        NanPattern::Value(v) => v.bits == bits,
    }
}

fn f64_matches(expected: &NanPattern<F64>, bits: u64) -> bool {
    match expected {
        NanPattern::CanonicalNan => bits & 0x7fff_ffff_ffff_ffff == F64_CANONICAL_NAN,
        NanPattern::ArithmeticNan => bits & F64_CANONICAL_NAN == F64_CANONICAL_NAN,
        NanPattern::Value(v) => v.bits == bits,
    }
}

/// Splits a v128 into `N` little-endian lanes of `width` bytes.
fn lanes<const N: usize>(v: u128) -> [u64; N] {
    let bytes = v.to_le_bytes();
    let width = 16 / N;
    let mut out = [0u64; N];
    for (i, lane) in out.iter_mut().enumerate() {
        let mut buf = [0u8; 8];
        buf[..width].copy_from_slice(&bytes[i * width..(i + 1) * width]);
        *lane = u64::from_le_bytes(buf);
    }
    out
}

fn v128_matches(expected: &V128Pattern, actual: u128) -> bool {
    match expected {
        V128Pattern::I8x16(e) => e
            .iter()
            .zip(lanes::<16>(actual))
            .all(|(e, a)| *e as u8 as u64 == a),
        V128Pattern::I16x8(e) => e
            .iter()
            .zip(lanes::<8>(actual))
            .all(|(e, a)| *e as u16 as u64 == a),
        V128Pattern::I32x4(e) => e
            .iter()
            .zip(lanes::<4>(actual))
            .all(|(e, a)| *e as u32 as u64 == a),
        V128Pattern::I64x2(e) => e
            .iter()
            .zip(lanes::<2>(actual))
            .all(|(e, a)| *e as u64 == a),
        V128Pattern::F32x4(e) => e
            .iter()
            .zip(lanes::<4>(actual))
            .all(|(e, a)| f32_matches(e, a as u32)),
        V128Pattern::F64x2(e) => e
            .iter()
            .zip(lanes::<2>(actual))
            .all(|(e, a)| f64_matches(e, a)),
    }
}

fn describe_f32(bits: u32) -> String {
    format!("f32 {} (0x{bits:08x})", f32::from_bits(bits))
}

fn describe_f64(bits: u64) -> String {
    format!("f64 {} (0x{bits:016x})", f64::from_bits(bits))
}

fn describe_nan<T>(p: &NanPattern<T>, value: impl Fn(&T) -> String) -> String {
    match p {
        NanPattern::CanonicalNan => "nan:canonical".to_string(),
        NanPattern::ArithmeticNan => "nan:arithmetic".to_string(),
        NanPattern::Value(v) => value(v),
    }
}

fn join<T>(items: &[T], f: impl Fn(&T) -> String) -> String {
    items.iter().map(f).collect::<Vec<_>>().join(" ")
}

fn describe_expected(expected: &WastRetCore<'_>) -> String {
    match expected {
        WastRetCore::I32(v) => format!("i32 {v}"),
        WastRetCore::I64(v) => format!("i64 {v}"),
        WastRetCore::F32(p) => describe_nan(p, |v| describe_f32(v.bits)),
        WastRetCore::F64(p) => describe_nan(p, |v| describe_f64(v.bits)),
        WastRetCore::V128(p) => match p {
            V128Pattern::I8x16(l) => format!("i8x16 {}", join(l, |x| x.to_string())),
            V128Pattern::I16x8(l) => format!("i16x8 {}", join(l, |x| x.to_string())),
            V128Pattern::I32x4(l) => format!("i32x4 {}", join(l, |x| x.to_string())),
            V128Pattern::I64x2(l) => format!("i64x2 {}", join(l, |x| x.to_string())),
            V128Pattern::F32x4(l) => format!(
                "f32x4 {}",
                join(l, |p| describe_nan(p, |v| format!("0x{:08x}", v.bits)))
            ),
            V128Pattern::F64x2(l) => format!(
                "f64x2 {}",
                join(l, |p| describe_nan(p, |v| format!("0x{:016x}", v.bits)))
            ),
        },
        WastRetCore::RefNull(_) => "ref.null".to_string(),
        WastRetCore::RefExtern(Some(n)) => format!("ref.extern {n}"),
        WastRetCore::RefExtern(None) => "ref.extern".to_string(),
        WastRetCore::RefFunc(_) => "ref.func".to_string(),
        WastRetCore::Either(options) => format!("either({})", join(options, describe_expected)),
        other => format!("{other:?}"),
    }
}

/// A short human-readable rendering of a value, for failure reasons.
pub(crate) fn describe_val(store: &Store<()>, val: &Val) -> String {
    match val {
        Val::I32(v) => format!("i32 {v}"),
        Val::I64(v) => format!("i64 {v}"),
        Val::F32(bits) => describe_f32(*bits),
        Val::F64(bits) => describe_f64(*bits),
        Val::V128(v) => format!("v128 0x{v:032x}"),
        Val::FuncRef(None) => "ref.null func".to_string(),
        Val::FuncRef(Some(_)) => "ref.func".to_string(),
        Val::ExternRef(None) => "ref.null extern".to_string(),
        Val::ExternRef(Some(r)) => match extern_payload(store, r) {
            Some(n) => format!("ref.extern {n}"),
            None => "ref.extern (foreign payload)".to_string(),
        },
        Val::ExnRef(None) => "ref.null exn".to_string(),
        Val::ExnRef(Some(_)) => "exnref".to_string(),
        Val::AnyRef(None) => "ref.null any".to_string(),
        Val::AnyRef(Some(r)) if r.is_i31() => format!("ref.i31 {:?}", r.as_i31()),
        Val::AnyRef(Some(r)) if r.is_struct(store) => "ref.struct".to_string(),
        Val::AnyRef(Some(r)) if r.is_array(store) => "ref.array".to_string(),
        Val::AnyRef(Some(_)) => "ref.host".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nan_patterns() {
        let canon = NanPattern::<F32>::CanonicalNan;
        let arith = NanPattern::<F32>::ArithmeticNan;
        assert!(f32_matches(&canon, 0x7fc0_0000));
        assert!(f32_matches(&canon, 0xffc0_0000));
        assert!(!f32_matches(&canon, 0x7fc0_0001));
        assert!(f32_matches(&arith, 0x7fc0_0001));
        assert!(
            !f32_matches(&arith, 0x7f80_0001),
            "signalling NaN is not arithmetic"
        );
        assert!(!f32_matches(&arith, 0x3f80_0000));
        let canon = NanPattern::<F64>::CanonicalNan;
        let arith = NanPattern::<F64>::ArithmeticNan;
        assert!(f64_matches(&canon, 0xfff8_0000_0000_0000));
        assert!(!f64_matches(&canon, 0x7ff8_0000_0000_0001));
        assert!(f64_matches(&arith, 0x7ff8_0000_0000_0001));
        assert!(!f64_matches(&arith, 0x7ff0_0000_0000_0001));
    }

    #[test]
    fn lane_split_is_little_endian() {
        let v = u128::from_le_bytes([1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8, 0]);
        assert_eq!(lanes::<8>(v), [1, 2, 3, 4, 5, 6, 7, 8]);
        assert!(v128_matches(
            &V128Pattern::I16x8([1, 2, 3, 4, 5, 6, 7, 8]),
            v
        ));
        assert!(!v128_matches(
            &V128Pattern::I16x8([1, 2, 3, 4, 5, 6, 7, 9]),
            v
        ));
        let neg = u128::from_le_bytes([0xff; 16]);
        assert!(v128_matches(&V128Pattern::I8x16([-1; 16]), neg));
        assert!(v128_matches(&V128Pattern::I64x2([-1; 2]), neg));
    }
}
