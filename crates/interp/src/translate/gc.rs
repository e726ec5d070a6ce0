//! Translation of the GC proposal's instructions: struct and array
//! allocation and access, i31s, casts and the conversions between the
//! `any` and `extern` hierarchies (which change no bits, so emit nothing).
//! Field offsets and kinds come from `kiln_environ::gc_layout`, computed
//! here from the module's types and baked into the ops.

use super::FuncTranslator;
use crate::bytecode::Op;
use crate::exec::gc::{BARRIER_BULK, BARRIER_ELEMENT, BARRIER_FIELD, ELEM_SEGMENT};
use kiln_environ::gc_cast as cast;
use kiln_environ::gc_layout::{FieldKind, StructLayout, array_elem_kind};
use kiln_environ::{RefType, TranslationError, TypeKind};
use wasmparser::Operator as O;

impl FuncTranslator<'_> {
    /// Translates `op` if it is a GC instruction; `Ok(false)` if it is not
    /// one.
    pub(super) fn visit_gc(&mut self, op: &O<'_>) -> Result<bool, TranslationError> {
        match *op {
            O::RefI31 => {
                let src = self.pop().src;
                let dst = self.push_temp(1);
                self.set_top_gc(true);
                self.emit(Op::RefI31 { dst, src });
            }
            O::I31GetS | O::I31GetU => {
                let src = self.pop().src;
                let dst = self.push_temp(1);
                self.emit(Op::I31Get {
                    dst,
                    src,
                    signed: matches!(op, O::I31GetS),
                });
            }
            O::RefEq => {
                // GC references compare by their bits.
                let b = self.pop().src;
                let a = self.pop().src;
                let dst = self.push_temp(1);
                self.emit(Op::I64Eq(crate::bytecode::Bin {
                    dst,
                    lhs: a,
                    rhs: b,
                }));
            }
            O::AnyConvertExtern | O::ExternConvertAny => {}
            O::StructNew { struct_type_index } => {
                let n = self.struct_layout(struct_type_index).fields.len();
                let base = self.pop_operands_of_allocation(n);
                let dst = self.push_temp(1);
                self.emit(Op::StructNew {
                    dst,
                    base,
                    ty: struct_type_index,
                    default: false,
                });
                // After the op: its map must not list its own result slot,
                // which holds an operand until the object exists.
                self.set_top_gc(true);
            }
            O::StructNewDefault { struct_type_index } => {
                let dst = self.push_temp(1);
                self.emit(Op::StructNew {
                    dst,
                    base: dst,
                    ty: struct_type_index,
                    default: true,
                });
                // After the op: its map must not list its own result slot,
                // which holds an operand until the object exists.
                self.set_top_gc(true);
            }
            O::StructGet {
                struct_type_index,
                field_index,
            } => self.struct_get(struct_type_index, field_index, false),
            O::StructGetS {
                struct_type_index,
                field_index,
            } => self.struct_get(struct_type_index, field_index, true),
            O::StructGetU {
                struct_type_index,
                field_index,
            } => self.struct_get(struct_type_index, field_index, false),
            O::StructSet {
                struct_type_index,
                field_index,
            } => {
                let (offset, kind) =
                    self.struct_layout(struct_type_index).fields[field_index as usize];
                let val = self.pop();
                let obj = self.pop().src;
                self.emit(Op::StructSet {
                    obj,
                    val: val.src,
                    offset,
                    kind: kind as u8,
                });
                if val.gc {
                    self.emit(Op::GcBarrier {
                        obj,
                        val: val.src,
                        index: 0,
                        offset,
                        at: BARRIER_FIELD,
                    });
                }
            }
            O::ArrayNew { array_type_index } => {
                let len = self.pop().src;
                let init = self.pop();
                if init.gc {
                    // Read after the allocation, which may move it.
                    self.gc_operands.push(init.src);
                }
                let init = init.src;
                let dst = self.push_temp(1);
                self.emit(Op::ArrayNew {
                    dst,
                    init,
                    len,
                    ty: array_type_index,
                    default: false,
                });
                // After the op: its map must not list its own result slot,
                // which holds an operand until the object exists.
                self.set_top_gc(true);
            }
            O::ArrayNewDefault { array_type_index } => {
                let len = self.pop().src;
                let dst = self.push_temp(1);
                self.emit(Op::ArrayNew {
                    dst,
                    init: len,
                    len,
                    ty: array_type_index,
                    default: true,
                });
                // After the op: its map must not list its own result slot,
                // which holds an operand until the object exists.
                self.set_top_gc(true);
            }
            O::ArrayNewFixed {
                array_type_index,
                array_size,
            } => {
                let base = self.pop_operands_of_allocation(array_size as usize);
                let dst = self.push_temp(1);
                self.emit(Op::ArrayNewFixed {
                    dst,
                    base,
                    ty: array_type_index,
                    len: array_size,
                });
                // After the op: its map must not list its own result slot,
                // which holds an operand until the object exists.
                self.set_top_gc(true);
            }
            O::ArrayNewData {
                array_type_index,
                array_data_index,
            } => self.array_new_segment(array_type_index, array_data_index),
            O::ArrayNewElem {
                array_type_index,
                array_elem_index,
            } => self.array_new_segment(array_type_index, array_elem_index | ELEM_SEGMENT),
            O::ArrayGet { array_type_index } => self.array_get(array_type_index, false),
            O::ArrayGetS { array_type_index } => self.array_get(array_type_index, true),
            O::ArrayGetU { array_type_index } => self.array_get(array_type_index, false),
            O::ArraySet { array_type_index } => {
                let kind = self.array_kind(array_type_index) as u8;
                let val = self.pop();
                let index = self.pop().src;
                let arr = self.pop().src;
                self.emit(Op::ArraySet {
                    arr,
                    index,
                    val: val.src,
                    kind,
                });
                if val.gc {
                    self.emit(Op::GcBarrier {
                        obj: arr,
                        val: val.src,
                        index,
                        offset: self.array_kind(array_type_index).size(),
                        at: BARRIER_ELEMENT,
                    });
                }
            }
            O::ArrayLen => {
                let arr = self.pop().src;
                let dst = self.push_temp(1);
                self.emit(Op::ArrayLen { dst, arr });
            }
            O::ArrayFill { array_type_index } => {
                let kind = self.array_kind(array_type_index) as u8;
                let len = self.pop().src;
                let val = self.pop();
                let offset = self.pop().src;
                let arr = self.pop().src;
                self.emit(Op::ArrayFill {
                    arr,
                    offset,
                    val: val.src,
                    len,
                    kind,
                });
                self.bulk_barrier(arr, val.gc);
            }
            O::ArrayCopy {
                array_type_index_dst,
                ..
            } => {
                let kind = self.array_kind(array_type_index_dst) as u8;
                let len = self.pop().src;
                let src_offset = self.pop().src;
                let src = self.pop().src;
                let dst_offset = self.pop().src;
                let dst = self.pop().src;
                self.emit(Op::ArrayCopy {
                    dst,
                    dst_offset,
                    src,
                    src_offset,
                    len,
                    kind,
                });
                let traced = self.array_traced(array_type_index_dst);
                self.bulk_barrier(dst, traced);
            }
            O::ArrayInitData {
                array_type_index,
                array_data_index,
            } => self.array_init_segment(array_type_index, array_data_index),
            O::ArrayInitElem {
                array_type_index,
                array_elem_index,
            } => self.array_init_segment(array_type_index, array_elem_index | ELEM_SEGMENT),
            O::RefTestNonNull { hty } => self.ref_test(hty, false)?,
            O::RefTestNullable { hty } => self.ref_test(hty, true)?,
            O::RefCastNonNull { hty } => self.ref_cast(hty, false)?,
            O::RefCastNullable { hty } => self.ref_cast(hty, true)?,
            O::BrOnCast {
                relative_depth,
                to_ref_type,
                ..
            } => self.br_on_cast(relative_depth, to_ref_type, true)?,
            O::BrOnCastFail {
                relative_depth,
                to_ref_type,
                ..
            } => self.br_on_cast(relative_depth, to_ref_type, false)?,
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Pops the `n` operands an allocation stores into the new object
    /// (as [`pop_consecutive`](Self::pop_consecutive)); the traced ones
    /// are among the allocation's reference slots, because the handler
    /// reads them after allocating.
    fn pop_operands_of_allocation(&mut self, n: usize) -> crate::bytecode::Slot {
        self.materialize_top(n);
        let len = self.stack.len();
        let traced = self.stack[len - n..].iter().filter(|e| e.gc).map(|e| e.src);
        self.gc_operands.extend(traced);
        self.pop_consecutive(n)
    }

    fn struct_layout(&self, ty: u32) -> StructLayout {
        StructLayout::of(
            self.t.types[ty as usize]
                .as_struct()
                .expect("validation: a struct instruction names a struct type"),
        )
    }

    fn array_kind(&self, ty: u32) -> FieldKind {
        array_elem_kind(
            self.t.types[ty as usize]
                .as_array()
                .expect("validation: an array instruction names an array type"),
        )
    }

    fn struct_get(&mut self, ty: u32, field: u32, signed: bool) {
        let (offset, kind) = self.struct_layout(ty).fields[field as usize];
        let obj = self.pop().src;
        let dst = self.push_temp(if kind == FieldKind::V128 { 2 } else { 1 });
        let traced = self.t.types[ty as usize]
            .as_struct()
            .is_some_and(|s| s.fields[field as usize].storage.is_traced());
        self.set_top_gc(traced);
        self.emit(Op::StructGet {
            dst,
            obj,
            offset,
            kind: kind as u8,
            signed,
        });
    }

    fn array_get(&mut self, ty: u32, signed: bool) {
        let kind = self.array_kind(ty);
        let index = self.pop().src;
        let arr = self.pop().src;
        let dst = self.push_temp(if kind == FieldKind::V128 { 2 } else { 1 });
        let traced = self.t.types[ty as usize]
            .as_array()
            .is_some_and(|a| a.element.storage.is_traced());
        self.set_top_gc(traced);
        self.emit(Op::ArrayGet {
            dst,
            arr,
            index,
            kind: kind as u8,
            signed,
        });
    }

    fn array_new_segment(&mut self, ty: u32, seg: u32) {
        let len = self.pop().src;
        let offset = self.pop().src;
        let dst = self.push_temp(1);
        self.emit(Op::ArrayNewSegment {
            dst,
            offset,
            len,
            ty,
            seg,
        });
        // After the op: its map must not list its own result slot,
        // which holds an operand until the object exists.
        self.set_top_gc(true);
    }

    fn array_init_segment(&mut self, ty: u32, seg: u32) {
        let kind = self.array_kind(ty) as u8;
        let len = self.pop().src;
        let src = self.pop().src;
        let offset = self.pop().src;
        let arr = self.pop().src;
        self.emit(Op::ArrayInitSegment {
            arr,
            offset,
            src,
            len,
            kind,
            seg,
        });
        let traced = self.array_traced(ty);
        self.bulk_barrier(arr, traced);
    }

    /// Whether array type `ty`'s elements are traced references.
    fn array_traced(&self, ty: u32) -> bool {
        self.t.types[ty as usize]
            .as_array()
            .is_some_and(|a| a.element.storage.is_traced())
    }

    /// The write barrier after a bulk write into the array in slot `obj`
    /// of elements that are traced references (`traced`).
    fn bulk_barrier(&mut self, obj: super::Slot, traced: bool) {
        if traced {
            self.emit(Op::GcBarrier {
                obj,
                val: obj,
                index: 0,
                offset: 0,
                at: BARRIER_BULK,
            });
        }
    }

    /// The `(target, flags)` operands of a cast to `hty`, nullable or not.
    fn cast_target(&self, ty: wasmparser::RefType) -> Result<(u32, u8), TranslationError> {
        let kind_of = |i: u32| -> TypeKind { self.t.type_kind(i) };
        let r = RefType::from_wasmparser(ty, &kind_of, self.offset as u64)?;
        Ok(cast::encode(r))
    }

    fn ref_test(
        &mut self,
        hty: wasmparser::HeapType,
        nullable: bool,
    ) -> Result<(), TranslationError> {
        let (target, flags) = self.cast_target(ref_type(hty, nullable)?)?;
        let src = self.pop().src;
        let dst = self.push_temp(1);
        self.emit(Op::RefTest {
            dst,
            src,
            target,
            flags,
        });
        Ok(())
    }

    fn ref_cast(
        &mut self,
        hty: wasmparser::HeapType,
        nullable: bool,
    ) -> Result<(), TranslationError> {
        let (target, flags) = self.cast_target(ref_type(hty, nullable)?)?;
        let src = self.stack.last().expect("validated: a reference").src;
        self.emit(Op::RefCast { src, target, flags });
        Ok(())
    }

    /// `br_on_cast` (`on_success`) or `br_on_cast_fail`: the reference
    /// stays on the stack on both edges.
    fn br_on_cast(
        &mut self,
        depth: u32,
        to: wasmparser::RefType,
        on_success: bool,
    ) -> Result<(), TranslationError> {
        let (target, flags) = self.cast_target(to)?;
        let src = self.stack.last().expect("validated: a reference").src;
        let dst = self.push_temp(1);
        self.emit(Op::RefTest {
            dst,
            src,
            target,
            flags,
        });
        let cond = self.pop();
        self.branch_if(cond, depth, on_success);
        Ok(())
    }
}

/// The reference type a `ref.test`/`ref.cast` immediate names.
fn ref_type(
    hty: wasmparser::HeapType,
    nullable: bool,
) -> Result<wasmparser::RefType, TranslationError> {
    wasmparser::RefType::new(nullable, hty)
        .ok_or_else(|| TranslationError::unsupported("unsupported heap type in a cast", 0))
}
