//! Lane access helpers plus the lane-granular instructions: splat, extract,
//! replace, shuffle and the load/store reshaping.
//!
//! Lanes are read and written with shifts on the `u128`, never by
//! reinterpreting memory, so the results do not depend on host endianness.

use super::V128;

/// A scalar type that can occupy one lane of a [`V128`].
pub(crate) trait Lane: Copy {
    /// Width of the lane in bits; `128 / BITS` lanes fit in a vector.
    const BITS: u32;
    /// Builds the lane from the low `BITS` bits of `raw`.
    fn from_raw(raw: u128) -> Self;
    /// The lane's bits, zero-extended (never sign-extended, so lanes can be
    /// OR-ed together).
    fn into_raw(self) -> u128;
}

macro_rules! int_lane {
    ($($t:ty => $u:ty),* $(,)?) => {$(
        impl Lane for $t {
            const BITS: u32 = <$t>::BITS;
            #[inline]
            fn from_raw(raw: u128) -> Self {
                raw as $t
            }
            #[inline]
            fn into_raw(self) -> u128 {
                // Going through the unsigned type keeps signed lanes from
                // smearing their sign over the neighbouring lanes.
                self as $u as u128
            }
        }
    )*};
}
int_lane!(u8 => u8, i8 => u8, u16 => u16, i16 => u16, u32 => u32, i32 => u32, u64 => u64, i64 => u64);

impl Lane for f32 {
    const BITS: u32 = 32;
    #[inline]
    fn from_raw(raw: u128) -> Self {
        f32::from_bits(raw as u32)
    }
    #[inline]
    fn into_raw(self) -> u128 {
        self.to_bits() as u128
    }
}

impl Lane for f64 {
    const BITS: u32 = 64;
    #[inline]
    fn from_raw(raw: u128) -> Self {
        f64::from_bits(raw as u64)
    }
    #[inline]
    fn into_raw(self) -> u128 {
        self.to_bits() as u128
    }
}

/// Splits a vector into its `N` lanes of type `T`, lane 0 first.
#[inline]
pub(crate) fn split<T: Lane, const N: usize>(v: V128) -> [T; N] {
    const { assert!(N as u32 * T::BITS == 128) };
    core::array::from_fn(|i| T::from_raw(v >> (i as u32 * T::BITS)))
}

/// Reassembles a vector from its lanes, lane 0 first.
#[inline]
pub(crate) fn join<T: Lane, const N: usize>(lanes: [T; N]) -> V128 {
    const { assert!(N as u32 * T::BITS == 128) };
    let mut v = 0;
    for (i, lane) in lanes.into_iter().enumerate() {
        v |= lane.into_raw() << (i as u32 * T::BITS);
    }
    v
}

/// Applies `f` to every lane.
#[inline]
pub(crate) fn map1<T: Lane, const N: usize>(a: V128, f: impl Fn(T) -> T) -> V128 {
    join::<T, N>(split::<T, N>(a).map(f))
}

/// Applies `f` to every pair of corresponding lanes.
#[inline]
pub(crate) fn map2<T: Lane, const N: usize>(a: V128, b: V128, f: impl Fn(T, T) -> T) -> V128 {
    let (a, b) = (split::<T, N>(a), split::<T, N>(b));
    join::<T, N>(core::array::from_fn(|i| f(a[i], b[i])))
}

/// Mask covering the low `bits` bits (1..=128).
#[inline]
pub(crate) fn low_mask(bits: u32) -> u128 {
    u128::MAX >> (128 - bits)
}

/// Bit offset of `lane` for `bits`-wide lanes.
///
/// Lane indices are checked by validation; masking here only keeps a bad
/// index from turning into a shift overflow panic in release builds.
#[inline]
fn lane_shift(bits: u32, lane: u8) -> u32 {
    let lanes = 128 / bits;
    debug_assert!(
        u32::from(lane) < lanes,
        "lane {lane} out of range for {lanes} lanes"
    );
    (u32::from(lane) & (lanes - 1)) * bits
}

/// Reads the raw bits of lane `lane` of width `bits`.
#[inline]
fn get_lane(v: V128, bits: u32, lane: u8) -> u64 {
    ((v >> lane_shift(bits, lane)) & low_mask(bits)) as u64
}

/// Overwrites lane `lane` of width `bits` with the low bits of `x`.
#[inline]
fn set_lane(v: V128, bits: u32, lane: u8, x: u64) -> V128 {
    let shift = lane_shift(bits, lane);
    let mask = low_mask(bits);
    (v & !(mask << shift)) | ((u128::from(x) & mask) << shift)
}

/// Broadcasts the low `bits` bits of `x` to every lane.
#[inline]
fn splat_bits(bits: u32, x: u64) -> V128 {
    // Multiplying by a lane-wise "1" pattern replicates the lane without a
    // loop; it cannot carry between lanes because `x` is masked first.
    let x = u128::from(x) & low_mask(bits);
    let ones = u128::MAX / low_mask(bits);
    x * ones
}

/// Width of a single lane touched by `v128.loadN_lane` / `v128.storeN_lane`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LaneWidth {
    /// 8-bit lanes (16 of them).
    B8,
    /// 16-bit lanes (8 of them).
    B16,
    /// 32-bit lanes (4 of them).
    B32,
    /// 64-bit lanes (2 of them).
    B64,
}

impl LaneWidth {
    /// Number of bytes the instruction reads from or writes to memory.
    pub fn bytes(self) -> u32 {
        match self {
            LaneWidth::B8 => 1,
            LaneWidth::B16 => 2,
            LaneWidth::B32 => 4,
            LaneWidth::B64 => 8,
        }
    }

    /// Number of lanes of this width in a vector, i.e. the exclusive bound
    /// on valid lane indices.
    pub fn lanes(self) -> u8 {
        (16 / self.bytes()) as u8
    }

    fn bits(self) -> u32 {
        self.bytes() * 8
    }
}

/// `v128.loadN_lane`: replaces lane `lane` of `v` with the loaded bytes.
///
/// `raw` holds the `w.bytes()` bytes read from memory, little-endian and
/// zero-extended; any higher bits are ignored.
pub fn load_lane(w: LaneWidth, v: V128, lane: u8, raw: u64) -> V128 {
    set_lane(v, w.bits(), lane, raw)
}

/// `v128.storeN_lane`: the bits of lane `lane` that must be written to
/// memory, as a zero-extended little-endian integer of `w.bytes()` bytes.
pub fn store_lane(w: LaneWidth, v: V128, lane: u8) -> u64 {
    get_lane(v, w.bits(), lane)
}

/// The `v128.load*` instructions that build a whole new vector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoadKind {
    /// `v128.load`: all 16 bytes as-is.
    Full,
    /// `v128.load8x8_s`: 8 bytes, each sign-extended to a 16-bit lane.
    Load8x8S,
    /// `v128.load8x8_u`: 8 bytes, each zero-extended to a 16-bit lane.
    Load8x8U,
    /// `v128.load16x4_s`: 4 halfwords, each sign-extended to a 32-bit lane.
    Load16x4S,
    /// `v128.load16x4_u`: 4 halfwords, each zero-extended to a 32-bit lane.
    Load16x4U,
    /// `v128.load32x2_s`: 2 words, each sign-extended to a 64-bit lane.
    Load32x2S,
    /// `v128.load32x2_u`: 2 words, each zero-extended to a 64-bit lane.
    Load32x2U,
    /// `v128.load8_splat`: 1 byte broadcast to all 16 lanes.
    Load8Splat,
    /// `v128.load16_splat`: 2 bytes broadcast to all 8 lanes.
    Load16Splat,
    /// `v128.load32_splat`: 4 bytes broadcast to all 4 lanes.
    Load32Splat,
    /// `v128.load64_splat`: 8 bytes broadcast to both lanes.
    Load64Splat,
    /// `v128.load32_zero`: 4 bytes into lane 0, the rest zero.
    Load32Zero,
    /// `v128.load64_zero`: 8 bytes into lane 0, the rest zero.
    Load64Zero,
}

impl LoadKind {
    /// Number of bytes the instruction reads from memory (also the width of
    /// the bounds check the interpreter must perform).
    pub fn bytes(self) -> u32 {
        match self {
            LoadKind::Full => 16,
            LoadKind::Load8x8S
            | LoadKind::Load8x8U
            | LoadKind::Load16x4S
            | LoadKind::Load16x4U
            | LoadKind::Load32x2S
            | LoadKind::Load32x2U
            | LoadKind::Load64Splat
            | LoadKind::Load64Zero => 8,
            LoadKind::Load8Splat => 1,
            LoadKind::Load16Splat => 2,
            LoadKind::Load32Splat | LoadKind::Load32Zero => 4,
        }
    }

    /// Builds the result vector from the bytes read.
    ///
    /// `raw` is `u128::from_le_bytes` of the `self.bytes()` bytes read,
    /// zero-extended; bits beyond `self.bytes()` are ignored.
    pub fn finish(self, raw: u128) -> V128 {
        use super::UnaryOp;
        let raw = raw & low_mask(self.bytes() * 8);
        match self {
            LoadKind::Full | LoadKind::Load32Zero | LoadKind::Load64Zero => raw,
            // The extending loads are exactly the "extend low half" unary ops
            // applied to the zero-extended bytes.
            LoadKind::Load8x8S => UnaryOp::I16x8ExtendLowI8x16S.eval(raw),
            LoadKind::Load8x8U => UnaryOp::I16x8ExtendLowI8x16U.eval(raw),
            LoadKind::Load16x4S => UnaryOp::I32x4ExtendLowI16x8S.eval(raw),
            LoadKind::Load16x4U => UnaryOp::I32x4ExtendLowI16x8U.eval(raw),
            LoadKind::Load32x2S => UnaryOp::I64x2ExtendLowI32x4S.eval(raw),
            LoadKind::Load32x2U => UnaryOp::I64x2ExtendLowI32x4U.eval(raw),
            LoadKind::Load8Splat => splat_bits(8, raw as u64),
            LoadKind::Load16Splat => splat_bits(16, raw as u64),
            LoadKind::Load32Splat => splat_bits(32, raw as u64),
            LoadKind::Load64Splat => splat_bits(64, raw as u64),
        }
    }
}

/// The `*.splat` instructions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SplatOp {
    /// `i8x16.splat` (input: an i32, low 8 bits used).
    I8x16,
    /// `i16x8.splat` (input: an i32, low 16 bits used).
    I16x8,
    /// `i32x4.splat`.
    I32x4,
    /// `i64x2.splat`.
    I64x2,
    /// `f32x4.splat` (input: the f32's bits).
    F32x4,
    /// `f64x2.splat` (input: the f64's bits).
    F64x2,
}

impl SplatOp {
    /// Broadcasts the scalar whose raw bits are `x` to every lane; bits above
    /// the lane width are ignored, which is the wrap the spec requires for
    /// the narrow integer splats.
    pub fn eval(self, x: u64) -> V128 {
        let bits = match self {
            SplatOp::I8x16 => 8,
            SplatOp::I16x8 => 16,
            SplatOp::I32x4 | SplatOp::F32x4 => 32,
            SplatOp::I64x2 | SplatOp::F64x2 => 64,
        };
        splat_bits(bits, x)
    }
}

/// The `*.extract_lane*` instructions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExtractOp {
    /// `i8x16.extract_lane_s`.
    I8x16S,
    /// `i8x16.extract_lane_u`.
    I8x16U,
    /// `i16x8.extract_lane_s`.
    I16x8S,
    /// `i16x8.extract_lane_u`.
    I16x8U,
    /// `i32x4.extract_lane`.
    I32x4,
    /// `i64x2.extract_lane`.
    I64x2,
    /// `f32x4.extract_lane`.
    F32x4,
    /// `f64x2.extract_lane`.
    F64x2,
}

impl ExtractOp {
    /// Reads lane `lane` and returns the scalar's raw bits.
    ///
    /// i32 and f32 results occupy the low 32 bits with the upper 32 bits
    /// zero; the `_s` variants sign-extend to 32 bits only, because the
    /// result type is i32.
    pub fn eval(self, a: V128, lane: u8) -> u64 {
        match self {
            ExtractOp::I8x16S => u64::from(get_lane(a, 8, lane) as i8 as i32 as u32),
            ExtractOp::I8x16U => get_lane(a, 8, lane),
            ExtractOp::I16x8S => u64::from(get_lane(a, 16, lane) as i16 as i32 as u32),
            ExtractOp::I16x8U => get_lane(a, 16, lane),
            ExtractOp::I32x4 | ExtractOp::F32x4 => get_lane(a, 32, lane),
            ExtractOp::I64x2 | ExtractOp::F64x2 => get_lane(a, 64, lane),
        }
    }
}

/// The `*.replace_lane` instructions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplaceOp {
    /// `i8x16.replace_lane` (low 8 bits of the i32 used).
    I8x16,
    /// `i16x8.replace_lane` (low 16 bits of the i32 used).
    I16x8,
    /// `i32x4.replace_lane`.
    I32x4,
    /// `i64x2.replace_lane`.
    I64x2,
    /// `f32x4.replace_lane`.
    F32x4,
    /// `f64x2.replace_lane`.
    F64x2,
}

impl ReplaceOp {
    /// Returns `a` with lane `lane` replaced by the scalar whose raw bits are
    /// `x` (truncated to the lane width).
    pub fn eval(self, a: V128, lane: u8, x: u64) -> V128 {
        let bits = match self {
            ReplaceOp::I8x16 => 8,
            ReplaceOp::I16x8 => 16,
            ReplaceOp::I32x4 | ReplaceOp::F32x4 => 32,
            ReplaceOp::I64x2 | ReplaceOp::F64x2 => 64,
        };
        set_lane(a, bits, lane, x)
    }
}

/// `i8x16.shuffle`: byte `i` of the result is byte `lanes[i]` of the
/// 32-byte concatenation `a ++ b` (indices `0..16` pick from `a`).
///
/// Validation guarantees every selector is below 32.
pub fn shuffle(a: V128, b: V128, lanes: &[u8; 16]) -> V128 {
    let a = a.to_le_bytes();
    let b = b.to_le_bytes();
    let out: [u8; 16] = core::array::from_fn(|i| {
        let sel = usize::from(lanes[i]);
        debug_assert!(sel < 32, "shuffle selector {sel} out of range");
        let sel = sel & 31;
        if sel < 16 { a[sel] } else { b[sel - 16] }
    });
    u128::from_le_bytes(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(b: [u8; 16]) -> V128 {
        u128::from_le_bytes(b)
    }

    #[test]
    fn split_join_round_trip_and_lane_order() {
        let v = bytes(core::array::from_fn(|i| i as u8));
        let b: [u8; 16] = split(v);
        assert_eq!(b[0], 0);
        assert_eq!(b[15], 15);
        let h: [u16; 8] = split(v);
        assert_eq!(h[0], 0x0100);
        assert_eq!(h[7], 0x0f0e);
        let w: [i32; 4] = split(v);
        assert_eq!(w[1], 0x0706_0504);
        assert_eq!(join(w), v);
        let n: [i8; 16] = [-1; 16];
        assert_eq!(join(n), u128::MAX);
        let f: [f32; 4] = [1.0, -0.0, 2.5, f32::from_bits(0x7fa0_0001)];
        let g: [f32; 4] = split(join(f));
        assert_eq!(g.map(f32::to_bits), f.map(f32::to_bits));
    }

    #[test]
    fn splat() {
        assert_eq!(
            SplatOp::I8x16.eval(0x1_23ab),
            u128::from_le_bytes([0xab; 16])
        );
        assert_eq!(SplatOp::I16x8.eval(0xffff_8001), join([0x8001u16; 8]));
        assert_eq!(SplatOp::I32x4.eval(0xdead_beef), join([0xdead_beefu32; 4]));
        assert_eq!(SplatOp::I64x2.eval(u64::MAX), u128::MAX);
        assert_eq!(
            SplatOp::F32x4.eval(u64::from((-1.5f32).to_bits())),
            join([-1.5f32; 4])
        );
        assert_eq!(SplatOp::F64x2.eval(0.25f64.to_bits()), join([0.25f64; 2]));
    }

    #[test]
    fn extract_sign_and_zero_extension() {
        let v = join::<i8, 16>(core::array::from_fn(|i| if i == 3 { -2 } else { i as i8 }));
        assert_eq!(ExtractOp::I8x16S.eval(v, 3), 0xffff_fffe);
        assert_eq!(ExtractOp::I8x16U.eval(v, 3), 0xfe);
        assert_eq!(ExtractOp::I8x16S.eval(v, 15), 15);
        let v = join::<i16, 8>([0, 0, 0, 0, 0, 0, 0, -32768]);
        assert_eq!(ExtractOp::I16x8S.eval(v, 7), 0xffff_8000);
        assert_eq!(ExtractOp::I16x8U.eval(v, 7), 0x8000);
        let v = join::<i32, 4>([1, 2, -3, 4]);
        assert_eq!(ExtractOp::I32x4.eval(v, 2), 0xffff_fffd);
        let v = join::<i64, 2>([7, -1]);
        assert_eq!(ExtractOp::I64x2.eval(v, 1), u64::MAX);
        let v = join::<f32, 4>([0.0, 0.0, 0.0, -0.0]);
        assert_eq!(ExtractOp::F32x4.eval(v, 3), 0x8000_0000);
        let v = join::<f64, 2>([1.0, 2.0]);
        assert_eq!(ExtractOp::F64x2.eval(v, 1), 2.0f64.to_bits());
    }

    #[test]
    fn replace() {
        let v = u128::MAX;
        let r = ReplaceOp::I8x16.eval(v, 5, 0x1234);
        assert_eq!(r.to_le_bytes()[5], 0x34);
        assert_eq!(r | (0xff << 40), u128::MAX);
        let r = ReplaceOp::I16x8.eval(0, 7, 0xffff_abcd);
        assert_eq!(r, 0xabcd << 112);
        let r = ReplaceOp::F32x4.eval(0, 1, u64::from(1.0f32.to_bits()));
        assert_eq!(split::<f32, 4>(r), [0.0, 1.0, 0.0, 0.0]);
        let r = ReplaceOp::I64x2.eval(0, 0, u64::MAX);
        assert_eq!(r, u128::from(u64::MAX));
        let r = ReplaceOp::F64x2.eval(u128::MAX, 1, 0);
        assert_eq!(r, u128::from(u64::MAX));
        let r = ReplaceOp::I32x4.eval(0, 3, 0x1_0000_0001);
        assert_eq!(r, 1 << 96);
    }

    #[test]
    fn shuffle_picks_from_both_inputs() {
        let a = bytes(core::array::from_fn(|i| i as u8));
        let b = bytes(core::array::from_fn(|i| 0x10 + i as u8));
        let sel = [31, 0, 16, 15, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 30, 14];
        let r = shuffle(a, b, &sel).to_le_bytes();
        assert_eq!(r, sel);
        let rev: [u8; 16] = core::array::from_fn(|i| 15 - i as u8);
        assert_eq!(shuffle(a, b, &rev).to_le_bytes(), rev);
    }

    #[test]
    fn load_kinds() {
        let mem: [u8; 16] = [
            0x80, 0x7f, 0xff, 0x01, 0x00, 0x80, 0xfe, 0xff, 9, 9, 9, 9, 9, 9, 9, 9,
        ];
        let raw = u128::from_le_bytes(mem);
        assert_eq!(LoadKind::Full.finish(raw), raw);
        assert_eq!(LoadKind::Full.bytes(), 16);
        assert_eq!(
            split::<i16, 8>(LoadKind::Load8x8S.finish(raw)),
            [-128, 127, -1, 1, 0, -128, -2, -1]
        );
        assert_eq!(
            split::<u16, 8>(LoadKind::Load8x8U.finish(raw)),
            [0x80, 0x7f, 0xff, 1, 0, 0x80, 0xfe, 0xff]
        );
        assert_eq!(
            split::<i32, 4>(LoadKind::Load16x4S.finish(raw)),
            [0x7f80, 0x01ff, -32768, -2]
        );
        assert_eq!(
            split::<u32, 4>(LoadKind::Load16x4U.finish(raw)),
            [0x7f80, 0x01ff, 0x8000, 0xfffe]
        );
        assert_eq!(
            split::<i64, 2>(LoadKind::Load32x2S.finish(raw)),
            [0x01ff_7f80, 0xfffe_8000u32 as i32 as i64]
        );
        assert_eq!(
            split::<u64, 2>(LoadKind::Load32x2U.finish(raw)),
            [0x01ff_7f80, 0xfffe_8000]
        );
        assert_eq!(LoadKind::Load8Splat.finish(raw), bytes([0x80; 16]));
        assert_eq!(LoadKind::Load16Splat.finish(raw), join([0x7f80u16; 8]));
        assert_eq!(LoadKind::Load32Splat.finish(raw), join([0x01ff_7f80u32; 4]));
        assert_eq!(
            LoadKind::Load64Splat.finish(raw),
            join([0xfffe_8000_01ff_7f80u64; 2])
        );
        assert_eq!(LoadKind::Load32Zero.finish(raw), 0x01ff_7f80);
        assert_eq!(LoadKind::Load64Zero.finish(raw), 0xfffe_8000_01ff_7f80);
        let widths = [
            (LoadKind::Load8x8S, 8),
            (LoadKind::Load8Splat, 1),
            (LoadKind::Load16Splat, 2),
            (LoadKind::Load32Splat, 4),
            (LoadKind::Load64Splat, 8),
            (LoadKind::Load32Zero, 4),
            (LoadKind::Load64Zero, 8),
        ];
        for (kind, n) in widths {
            assert_eq!(kind.bytes(), n, "{kind:?}");
        }
    }

    #[test]
    fn lane_load_store() {
        let v = bytes(core::array::from_fn(|i| i as u8));
        assert_eq!(store_lane(LaneWidth::B8, v, 9), 9);
        assert_eq!(store_lane(LaneWidth::B16, v, 1), 0x0302);
        assert_eq!(store_lane(LaneWidth::B32, v, 3), 0x0f0e_0d0c);
        assert_eq!(store_lane(LaneWidth::B64, v, 1), 0x0f0e_0d0c_0b0a_0908);
        let r = load_lane(LaneWidth::B8, v, 15, 0xaa);
        assert_eq!(r.to_le_bytes()[15], 0xaa);
        assert_eq!(r & !(0xff << 120), v & !(0xff << 120));
        let r = load_lane(LaneWidth::B16, 0, 2, 0xffff_1234);
        assert_eq!(r, 0x1234 << 32);
        let r = load_lane(LaneWidth::B32, u128::MAX, 0, 0);
        assert_eq!(r, u128::MAX << 32);
        let r = load_lane(LaneWidth::B64, 0, 1, u64::MAX);
        assert_eq!(r, u128::from(u64::MAX) << 64);
        assert_eq!(
            [
                LaneWidth::B8,
                LaneWidth::B16,
                LaneWidth::B32,
                LaneWidth::B64
            ]
            .map(LaneWidth::bytes),
            [1, 2, 4, 8]
        );
        assert_eq!(LaneWidth::B16.lanes(), 8);
    }
}
