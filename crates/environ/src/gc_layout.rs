//! How GC objects and references look in memory: the one definition the
//! runtime's heap, the interpreter and compiled code share
//! (`docs/gc.md`).
//!
//! References in the `any` and `extern` hierarchies are 32-bit values,
//! held zero-extended in 64-bit slots, tables and globals:
//!
//! ```text
//!   0                          null
//!   ....xxxx xxxxxxx1          an i31: the integer in bits 1..32
//!   ....xxxx xxxxxx10          a host value: an index into the store's
//!                              host-value table in bits 2..32
//!   ....xxxx xxxxx000 (≠ 0)    an object: its byte offset in the heap
//! ```
//!
//! so `any.convert_extern` and `extern.convert_any` change no bits, and
//! `ref.eq` compares them. An object starts with an 8-byte header (its
//! type's registry id, then a word whose low two bits say struct or array
//! and whose other bits belong to the collector); an array's length
//! follows at offset 8 and its elements start at offset 16. Fields are
//! stored in the host's byte order (a `v128` little-endian, lane 0 first,
//! as compiled code's vector stores write it) at their natural alignment
//! (at most 8).
//! A field of a function or exception reference holds the same 64-bit
//! bits a slot would, so it takes 8 bytes.

use crate::{ArrayType, StorageType, StructType, ValType};
use alloc::vec::Vec;

/// The bits of a null reference.
pub const NULL_REF: u32 = 0;
/// Bytes in an object's header.
pub const HEADER_SIZE: u32 = 8;
/// Offset of an array's `u32` length.
pub const ARRAY_LEN_OFFSET: u32 = 8;
/// Offset of an array's first element.
pub const ARRAY_ELEMS_OFFSET: u32 = 16;
/// The header word's kind bits: a struct.
pub const KIND_STRUCT: u32 = 1;
/// The header word's kind bits: an array.
pub const KIND_ARRAY: u32 = 2;
/// Mask of the kind bits in the header word.
pub const KIND_MASK: u32 = 3;
/// Set in the header word of an old object the write barrier put in the
/// remembered set (it may hold references to young objects); the
/// collector clears it. Readers of the kind mask it off.
pub const REMEMBERED: u32 = 1 << 3;
/// Set by the collector in the header word of an old array of traced
/// references of at least [`CARDED_ARRAY_MIN`] bytes: the write barrier
/// marks the card of each element written instead of having the whole
/// array scanned, so it must be told of every store, remembered or not.
pub const CARDED: u32 = 1 << 4;
/// The smallest array (bytes, header included) the collector cards.
pub const CARDED_ARRAY_MIN: u32 = 4096;
/// Log2 of a card's size in bytes: the heap's offsets are divided into
/// cards of this size, and a minor collection scans only the marked
/// cards of a carded array.
pub const CARD_SHIFT: u32 = 7;
/// Objects are aligned to this many bytes (so an offset's low 3 bits are
/// free for the i31 and host-value tags).
pub const OBJECT_ALIGN: u32 = 8;

/// Whether reference bits `r` (non-null, `any` or `extern` hierarchy)
/// are an i31.
pub fn is_i31(r: u32) -> bool {
    r & 1 != 0
}

/// Whether reference bits `r` are a host value (an `externref` made by
/// the host, possibly internalized).
pub fn is_host_value(r: u32) -> bool {
    r & 3 == 2
}

/// Whether reference bits `r` are a heap object.
pub fn is_object(r: u32) -> bool {
    r != NULL_REF && r & 7 == 0
}

/// The reference bits of `ref.i31 x`: the low 31 bits of `x`, tagged.
pub fn i31_ref(x: u32) -> u32 {
    (x << 1) | 1
}

/// The reference bits of host value `index`.
pub fn host_value_ref(index: u32) -> u32 {
    (index << 2) | 2
}

/// The host-value index of reference bits `r` (for which
/// [`is_host_value`] holds).
pub fn host_value_index(r: u32) -> u32 {
    r >> 2
}

/// How a field is read into a slot and written back from one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum FieldKind {
    /// An `i8`, sign-extended when read by a `_s` instruction.
    I8 = 0,
    /// An `i16`.
    I16 = 1,
    /// 32 bits: `i32`, `f32`, or a GC or host reference.
    W32 = 2,
    /// 64 bits: `i64`, `f64`, or a function or exception reference.
    W64 = 3,
    /// A `v128`.
    V128 = 4,
}

impl FieldKind {
    /// The kind of a field of storage type `s`.
    pub fn of(s: StorageType) -> FieldKind {
        match s {
            StorageType::I8 => FieldKind::I8,
            StorageType::I16 => FieldKind::I16,
            StorageType::Val(ValType::I32 | ValType::F32) => FieldKind::W32,
            StorageType::Val(ValType::I64 | ValType::F64) => FieldKind::W64,
            StorageType::Val(ValType::V128) => FieldKind::V128,
            StorageType::Val(ValType::Ref(r))
                if r.is_gc() || r.top() == crate::RefType::EXTERNREF =>
            {
                FieldKind::W32
            }
            StorageType::Val(ValType::Ref(_)) => FieldKind::W64,
        }
    }

    /// Bytes the field takes.
    pub fn size(self) -> u32 {
        match self {
            FieldKind::I8 => 1,
            FieldKind::I16 => 2,
            FieldKind::W32 => 4,
            FieldKind::W64 => 8,
            FieldKind::V128 => 16,
        }
    }

    /// The alignment of the field inside an object.
    pub fn align(self) -> u32 {
        self.size().min(8)
    }

    /// The kind with this `repr(u8)` value (as bytecode stores it).
    pub fn from_u8(v: u8) -> Option<FieldKind> {
        Some(match v {
            0 => FieldKind::I8,
            1 => FieldKind::I16,
            2 => FieldKind::W32,
            3 => FieldKind::W64,
            4 => FieldKind::V128,
            _ => return None,
        })
    }
}

/// Where each field of a struct type lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StructLayout {
    /// Bytes an object of the type takes, header included, rounded up to
    /// [`OBJECT_ALIGN`].
    pub size: u32,
    /// Each field's offset from the object's start, and its kind.
    pub fields: Vec<(u32, FieldKind)>,
}

impl StructLayout {
    /// The layout of `ty`: fields in declaration order, each at its
    /// natural alignment.
    pub fn of(ty: &StructType) -> StructLayout {
        let mut at = HEADER_SIZE;
        let fields = ty
            .fields
            .iter()
            .map(|f| {
                let kind = FieldKind::of(f.storage);
                at = at.next_multiple_of(kind.align());
                let offset = at;
                at += kind.size();
                (offset, kind)
            })
            .collect();
        StructLayout {
            size: at.next_multiple_of(OBJECT_ALIGN),
            fields,
        }
    }
}

/// The element kind of an array type.
pub fn array_elem_kind(ty: &ArrayType) -> FieldKind {
    FieldKind::of(ty.element.storage)
}

/// Bytes an array of `len` elements of `kind` takes, header and length
/// included, rounded up to [`OBJECT_ALIGN`]; `None` if that overflows
/// `u32` (no heap can hold it).
pub fn array_size(kind: FieldKind, len: u32) -> Option<u32> {
    let bytes = u64::from(len) * u64::from(kind.size()) + u64::from(ARRAY_ELEMS_OFFSET);
    u32::try_from(bytes.next_multiple_of(u64::from(OBJECT_ALIGN))).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{FieldType, RefType};
    use alloc::vec;

    fn field(storage: StorageType) -> FieldType {
        FieldType {
            storage,
            mutable: true,
        }
    }

    #[test]
    fn fields_are_naturally_aligned_after_the_header() {
        let ty = StructType {
            fields: vec![
                field(StorageType::I8),
                field(StorageType::Val(ValType::I64)),
                field(StorageType::I16),
                field(StorageType::Val(ValType::Ref(RefType::ANYREF))),
                field(StorageType::Val(ValType::Ref(RefType::FUNCREF))),
            ]
            .into(),
        };
        let l = StructLayout::of(&ty);
        assert_eq!(
            l.fields,
            vec![
                (8, FieldKind::I8),
                (16, FieldKind::W64),
                (24, FieldKind::I16),
                (28, FieldKind::W32),
                (32, FieldKind::W64),
            ]
        );
        assert_eq!(l.size, 40);
        assert_eq!(StructLayout::of(&StructType { fields: [].into() }).size, 8);
    }

    #[test]
    fn reference_tags_do_not_overlap() {
        let i = i31_ref(0x7fff_ffff);
        let h = host_value_ref(5);
        assert!(is_i31(i) && !is_host_value(i) && !is_object(i));
        assert!(is_host_value(h) && !is_i31(h) && !is_object(h));
        assert_eq!(host_value_index(h), 5);
        assert!(is_object(16) && !is_object(NULL_REF));
        assert_eq!(array_size(FieldKind::W64, 3), Some(40));
        assert_eq!(array_size(FieldKind::V128, u32::MAX), None);
    }
}
