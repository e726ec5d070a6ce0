//! Translation of the GC proposal's instructions. Field and element
//! accesses, `array.len`, i31s and `ref.eq` are inline: an object is at
//! its reference's offset from the store's heap base (the
//! `VmGcHeap` record the `VMContext` points at, reloaded after every call,
//! since an allocation may move the heap). Allocation, the array bulk
//! instructions and casts call the `Gc*` builtins. The layout is
//! `kiln_environ::gc_layout`'s, shared with the interpreter and the
//! runtime.

use super::{Field, Translator};
use crate::CompileError;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    self, InstBuilder, MemFlagsData, StackSlotData, StackSlotKind, Value, types,
};
use kiln_environ::gc_layout::{
    ARRAY_ELEMS_OFFSET, ARRAY_LEN_OFFSET, FieldKind, KIND_ARRAY, KIND_STRUCT, StructLayout,
};
use kiln_environ::{
    Builtin, CompositeType, RefType, StorageType, TrapCode, TypeKind, VAL_RAW_SIZE, ValType,
    gc_cast,
};
use wasmparser::Operator as O;

/// The top bit of a segment argument: an element segment.
const ELEM_SEGMENT: u32 = 1 << 31;

impl Translator<'_, '_> {
    /// Translates `op` if it is a GC instruction.
    pub(super) fn translate_gc_op(&mut self, op: &O<'_>) -> Result<bool, CompileError> {
        match *op {
            O::RefI31 => {
                let x = self.pop();
                let shifted = self.builder.ins().ishl_imm_u(x, 1);
                let tagged = self.builder.ins().bor_imm_u(shifted, 1);
                let r = self.builder.ins().uextend(types::I64, tagged);
                self.push(r);
            }
            O::I31GetS | O::I31GetU => {
                let r = self.pop();
                self.null_check(r);
                let bits = self.builder.ins().ireduce(types::I32, r);
                let v = if matches!(op, O::I31GetS) {
                    self.builder.ins().sshr_imm_u(bits, 1)
                } else {
                    self.builder.ins().ushr_imm_u(bits, 1)
                };
                self.push(v);
            }
            O::RefEq => {
                let (a, b) = self.pop2();
                let eq = self.builder.ins().icmp(IntCC::Equal, a, b);
                let v = self.builder.ins().uextend(types::I32, eq);
                self.push(v);
            }
            O::AnyConvertExtern | O::ExternConvertAny => {}
            O::StructNew { struct_type_index } => self.struct_new_inline(struct_type_index, false),
            O::StructNewDefault { struct_type_index } => {
                self.struct_new_inline(struct_type_index, true)
            }
            O::StructGet {
                struct_type_index,
                field_index,
            }
            | O::StructGetU {
                struct_type_index,
                field_index,
            } => self.struct_get(struct_type_index, field_index, false),
            O::StructGetS {
                struct_type_index,
                field_index,
            } => self.struct_get(struct_type_index, field_index, true),
            O::StructSet {
                struct_type_index,
                field_index,
            } => {
                let (offset, kind, vt) = self.field(struct_type_index, field_index);
                let v = self.pop();
                let r = self.pop();
                self.null_check(r);
                let addr = self.object_addr(r);
                self.store_field(kind, vt, v, addr, offset as i32);
                if vt.is_traced() {
                    self.write_barrier(r, v, FieldAt::Offset(offset));
                }
            }
            O::ArrayNew { array_type_index } => {
                let (init, len) = self.pop2();
                self.array_new_inline(array_type_index, len, Some(init), &[]);
            }
            O::ArrayNewDefault { array_type_index } => {
                let len = self.pop();
                self.array_new_inline(array_type_index, len, None, &[]);
            }
            O::ArrayNewFixed {
                array_type_index,
                array_size,
            } => {
                let n = array_size as usize;
                let vals = self.peekn(n).to_vec();
                let rest = self.stack.len() - n;
                self.stack.truncate(rest);
                let len = self.builder.ins().iconst(types::I32, i64::from(array_size));
                self.array_new_inline(array_type_index, len, None, &vals);
            }
            O::ArrayNewData {
                array_type_index,
                array_data_index,
            } => self.array_new_segment(array_type_index, array_data_index),
            O::ArrayNewElem {
                array_type_index,
                array_elem_index,
            } => self.array_new_segment(array_type_index, array_elem_index | ELEM_SEGMENT),
            O::ArrayGet { array_type_index } | O::ArrayGetU { array_type_index } => {
                self.array_get(array_type_index, false)
            }
            O::ArrayGetS { array_type_index } => self.array_get(array_type_index, true),
            O::ArraySet { array_type_index } => {
                let (kind, vt) = self.array_elem(array_type_index);
                let v = self.pop();
                let index = self.pop();
                let r = self.pop();
                let (addr, off) = self.elem_addr(r, index, kind);
                self.store_field(kind, vt, v, addr, off);
                if vt.is_traced() {
                    self.write_barrier(r, v, FieldAt::Element(index, kind.size()));
                }
            }
            O::ArrayLen => {
                let r = self.pop();
                self.null_check(r);
                let addr = self.object_addr(r);
                let len = self.builder.ins().load(
                    types::I32,
                    heap_flags(),
                    addr,
                    ARRAY_LEN_OFFSET as i32,
                );
                self.push(len);
            }
            O::ArrayFill { array_type_index } => {
                let len = self.pop();
                let vt = self.array_value_type(array_type_index);
                let buf = self.pop_to_raw_buffer(&[vt]);
                let (arr, index) = self.pop2();
                let ty = self.type_index(array_type_index);
                self.call_builtin(Builtin::GcArrayFill, &[ty, arr, index, buf, len]);
            }
            O::ArrayCopy {
                array_type_index_dst,
                ..
            } => {
                let len = self.pop();
                let (src, si) = self.pop2();
                let (dst, di) = self.pop2();
                let ty = self.type_index(array_type_index_dst);
                self.call_builtin(Builtin::GcArrayCopy, &[ty, dst, di, src, si, len]);
            }
            O::ArrayInitData {
                array_type_index,
                array_data_index,
            } => self.array_init_segment(array_type_index, array_data_index),
            O::ArrayInitElem {
                array_type_index,
                array_elem_index,
            } => self.array_init_segment(array_type_index, array_elem_index | ELEM_SEGMENT),
            O::RefTestNonNull { hty } | O::RefTestNullable { hty } => {
                let nullable = matches!(op, O::RefTestNullable { .. });
                let r = self.pop();
                let ok = self.ref_test(r, hty, nullable)?;
                self.push(ok);
            }
            O::RefCastNonNull { hty } | O::RefCastNullable { hty } => {
                let nullable = matches!(op, O::RefCastNullable { .. });
                let r = *self.stack.last().expect("validated: a reference");
                let ok = self.ref_test(r, hty, nullable)?;
                self.trap_unless(ok, TrapCode::CastFailure);
            }
            O::BrOnCast {
                relative_depth,
                to_ref_type,
                ..
            }
            | O::BrOnCastFail {
                relative_depth,
                to_ref_type,
                ..
            } => {
                let r = *self.stack.last().expect("validated: a reference");
                let ok = self.ref_test(r, to_ref_type.heap_type(), to_ref_type.is_nullable())?;
                let cond = if matches!(op, O::BrOnCast { .. }) {
                    ok
                } else {
                    let failed = self.builder.ins().icmp_imm_u(IntCC::Equal, ok, 0);
                    self.builder.ins().uextend(types::I32, failed)
                };
                // The reference stays on the stack, an argument of the
                // label on the taken edge and the value on the other.
                self.push(cond);
                self.translate_control_op(&O::BrIf { relative_depth })?;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn type_index(&mut self, ty: u32) -> Value {
        self.builder.ins().iconst(types::I32, i64::from(ty))
    }

    /// Traps with `NullReference` when `r` is null.
    fn null_check(&mut self, r: Value) {
        let is_null = self.builder.ins().icmp_imm_u(IntCC::Equal, r, 0);
        self.trap_if(is_null, TrapCode::NullReference);
    }

    /// The address of the (non-null) object `r`: the heap's base plus
    /// its offset.
    fn object_addr(&mut self, r: Value) -> Value {
        let record_off = self.env.offsets.vmctx_gc_heap();
        let record = self.load_ptr(self.vmctx, record_off, Field::Const);
        // The base moves only when the heap grows, in a call.
        let base = self.load_ptr(record, 0, Field::Record);
        let off = self.int_as(r, self.env.pointer_type);
        self.builder.ins().iadd(base, off)
    }

    fn struct_type(&self, ty: u32) -> &kiln_environ::StructType {
        match &self.env.module.types[ty as usize].composite {
            CompositeType::Struct(s) => s,
            _ => unreachable!("validation: a struct instruction names a struct type"),
        }
    }

    /// Field `i` of struct type `ty`: offset, kind and value type.
    fn field(&self, ty: u32, i: u32) -> (u32, FieldKind, StorageType) {
        let s = self.struct_type(ty);
        let (offset, kind) = StructLayout::of(s).fields[i as usize];
        (offset, kind, s.fields[i as usize].storage)
    }

    fn array_elem(&self, ty: u32) -> (FieldKind, StorageType) {
        match &self.env.module.types[ty as usize].composite {
            CompositeType::Array(a) => (FieldKind::of(a.element.storage), a.element.storage),
            _ => unreachable!("validation: an array instruction names an array type"),
        }
    }

    fn array_value_type(&self, ty: u32) -> ValType {
        self.array_elem(ty).1.unpacked()
    }

    /// Pops one value per type of `tys` into a fresh `ValRaw` buffer;
    /// returns its address (what builtins taking values of several types
    /// read: `throw`'s payload, a struct's fields).
    pub(super) fn pop_to_raw_buffer(&mut self, tys: &[ValType]) -> Value {
        let n = tys.len();
        let vals = self.peekn(n).to_vec();
        let new_len = self.stack.len() - n;
        self.stack.truncate(new_len);
        let slot = self.builder.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            (n.max(1) as u32) * VAL_RAW_SIZE,
            4,
        ));
        let buf = self
            .builder
            .ins()
            .stack_addr(self.env.pointer_type, slot, 0);
        for (i, (&t, &v)) in tys.iter().zip(&vals).enumerate() {
            let off = (i as u32 * VAL_RAW_SIZE) as i32;
            self.builder
                .ins()
                .store(super::exceptions::raw_flags(t), v, buf, off);
        }
        buf
    }

    /// The inline allocation fast path of an object of `size` bytes (an
    /// `i64`) of module type `ty` and `kind`: if it fits before the heap
    /// record's `end`, bumps `top` and writes the header. Returns with the
    /// fast block current and its object's address; the caller writes
    /// the fields, then [`finish_alloc`](Self::finish_alloc) emits the
    /// slow path.
    fn bump_alloc(&mut self, ty: u32, kind: u32, size: Value) -> InlineAlloc {
        let o = &self.env.offsets;
        let (record_off, sigs_off, ptr) = (
            o.vmctx_gc_heap(),
            o.vmctx_signature_ids(),
            self.env.pointer_type,
        );
        let top_off = 2 * ptr.bytes() as i32;
        let flags = self.vm_flags(Field::Record);
        let record = self.load_ptr(self.vmctx, record_off, Field::Const);
        let top = self.builder.ins().load(types::I32, flags, record, top_off);
        let end = self
            .builder
            .ins()
            .load(types::I32, flags, record, top_off + 4);
        let top64 = self.builder.ins().uextend(types::I64, top);
        let end64 = self.builder.ins().uextend(types::I64, end);
        let new_top = self.builder.ins().iadd(top64, size);
        let fits = self
            .builder
            .ins()
            .icmp(IntCC::UnsignedLessThanOrEqual, new_top, end64);
        let fast = self.builder.create_block();
        let slow = self.builder.create_block();
        let join = self.builder.create_block();
        let result = self.builder.append_block_param(join, types::I64);
        self.builder.set_cold_block(slow);
        self.builder.ins().brif(fits, fast, &[], slow, &[]);
        self.builder.seal_block(fast);
        self.builder.seal_block(slow);

        self.switch_to(fast);
        let new_top32 = self.builder.ins().ireduce(types::I32, new_top);
        self.builder.ins().store(flags, new_top32, record, top_off);
        let base = self.load_ptr(record, 0, Field::Record);
        let off = self.int_as(top, ptr);
        let addr = self.builder.ins().iadd(base, off);
        let sigs = self.load_ptr(self.vmctx, sigs_off, Field::Const);
        let fixed = self.vm_flags(Field::Const);
        let id = self
            .builder
            .ins()
            .load(types::I32, fixed, sigs, (ty * 4) as i32);
        let kind = self.builder.ins().iconst(types::I32, i64::from(kind));
        self.builder.ins().store(heap_flags(), id, addr, 0);
        self.builder.ins().store(heap_flags(), kind, addr, 4);
        InlineAlloc {
            addr,
            obj: top64,
            slow,
            join,
            result,
        }
    }

    /// Ends an inline allocation: the fast path's object goes to the join
    /// block; `slow` emits the runtime call (in the slow block), whose
    /// result goes there too; the join's reference is pushed.
    fn finish_alloc(&mut self, a: InlineAlloc, slow: impl FnOnce(&mut Self) -> Value) {
        self.builder.ins().jump(a.join, &[a.obj.into()]);
        self.switch_to(a.slow);
        let r = slow(self);
        self.builder.ins().jump(a.join, &[r.into()]);
        self.builder.seal_block(a.join);
        self.switch_to(a.join);
        self.mark_gc(a.result);
        self.push(a.result);
    }

    /// The write barrier after reference `v` was stored into the object
    /// `obj` at `at` (`docs/gc.md`, "The collector"): when the object is old
    /// (below the nursery's start) and `v` is a young object, a cold call
    /// puts the object in the remembered set (and marks the field's card
    /// if the object is a carded array). A store into a young object costs
    /// one load and one compare.
    fn write_barrier(&mut self, obj: Value, v: Value, at: FieldAt) {
        let o = &self.env.offsets;
        let (record_off, ptr) = (o.vmctx_gc_heap(), self.env.pointer_type);
        // After `base`, `len`, `top` and `end`.
        let start_off = 2 * ptr.bytes() as i32 + 8;
        let flags = self.vm_flags(Field::Record);
        let record = self.load_ptr(self.vmctx, record_off, Field::Const);
        let start = self
            .builder
            .ins()
            .load(types::I32, flags, record, start_off);
        let start = self.builder.ins().uextend(types::I64, start);
        let old = self.builder.ins().icmp(IntCC::UnsignedLessThan, obj, start);
        let check = self.builder.create_block();
        let slow = self.builder.create_block();
        let done = self.builder.create_block();
        self.builder.ins().brif(old, check, &[], done, &[]);
        self.builder.seal_block(check);
        self.switch_to(check);
        let young = self
            .builder
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, v, start);
        let tag = self.builder.ins().band_imm_u(v, 3);
        let untagged = self.builder.ins().icmp_imm_u(IntCC::Equal, tag, 0);
        let remember = self.builder.ins().band(young, untagged);
        self.builder.set_cold_block(slow);
        self.builder.ins().brif(remember, slow, &[], done, &[]);
        self.builder.seal_block(slow);
        self.switch_to(slow);
        let obj32 = self.builder.ins().ireduce(types::I32, obj);
        let field = match at {
            FieldAt::Offset(offset) => self.builder.ins().iadd_imm_u(obj32, i64::from(offset)),
            FieldAt::Element(index, size) => {
                let scaled = self.builder.ins().imul_imm_u(index, i64::from(size));
                let elem = self.builder.ins().iadd(obj32, scaled);
                self.builder
                    .ins()
                    .iadd_imm_u(elem, i64::from(ARRAY_ELEMS_OFFSET))
            }
        };
        self.call_builtin(Builtin::GcRemember, &[obj, field]);
        self.builder.ins().jump(done, &[]);
        self.builder.seal_block(done);
        self.switch_to(done);
    }

    /// `struct.new` (fields from the stack) or `struct.new_default`,
    /// inline when the object fits, else through the `GcStructNew`
    /// builtin, which may collect.
    fn struct_new_inline(&mut self, ty: u32, default: bool) {
        let s = self.struct_type(ty).clone();
        let layout = StructLayout::of(&s);
        let n = s.fields.len();
        let vals: Vec<Value> = if default {
            Vec::new()
        } else {
            let vals = self.peekn(n).to_vec();
            let len = self.stack.len() - n;
            self.stack.truncate(len);
            vals
        };
        let size = self
            .builder
            .ins()
            .iconst(types::I64, i64::from(layout.size));
        let a = self.bump_alloc(ty, KIND_STRUCT, size);
        for (i, (f, &(offset, k))) in s.fields.iter().zip(&layout.fields).enumerate() {
            let v = match vals.get(i) {
                Some(&v) => v,
                None => self.zero(f.storage.unpacked()),
            };
            self.store_field(k, f.storage, v, a.addr, offset as i32);
        }
        self.finish_alloc(a, |t| {
            let buf = if default {
                t.builder.ins().iconst(t.env.pointer_type, 0)
            } else {
                let tys: Vec<ValType> = s.fields.iter().map(|f| f.storage.unpacked()).collect();
                t.stack.extend_from_slice(&vals);
                t.pop_to_raw_buffer(&tys)
            };
            let ty = t.type_index(ty);
            t.call_builtin(Builtin::GcStructNew, &[ty, buf])
                .expect("gc_struct_new returns a reference")
        });
    }

    /// `array.new` (`init` some value), `array.new_default` (`init` none)
    /// and `array.new_fixed` (`fixed` the values): inline when the array
    /// fits (elements written by a loop, or one by one for the fixed
    /// form), else through the `GcArrayNew` builtin, which may collect.
    fn array_new_inline(&mut self, ty: u32, len: Value, init: Option<Value>, fixed: &[Value]) {
        let (kind, st) = self.array_elem(ty);
        let esize = i64::from(kind.size());
        let len64 = self.builder.ins().uextend(types::I64, len);
        let bytes = self.builder.ins().imul_imm_u(len64, esize);
        let bytes = self
            .builder
            .ins()
            .iadd_imm_u(bytes, i64::from(ARRAY_ELEMS_OFFSET) + 7);
        let size = self.builder.ins().band_imm_u(bytes, !7);
        let a = self.bump_alloc(ty, KIND_ARRAY, size);
        self.builder
            .ins()
            .store(heap_flags(), len, a.addr, ARRAY_LEN_OFFSET as i32);
        if fixed.is_empty() {
            let v = match init {
                Some(v) => v,
                None => self.zero(st.unpacked()),
            };
            // for i in 0..len { elems[i] = v }
            let head = self.builder.create_block();
            let body = self.builder.create_block();
            let done = self.builder.create_block();
            let i = self.builder.append_block_param(head, types::I64);
            let zero = self.builder.ins().iconst(types::I64, 0);
            self.builder.ins().jump(head, &[zero.into()]);
            self.switch_to(head);
            let more = self.builder.ins().icmp(IntCC::UnsignedLessThan, i, len64);
            self.builder.ins().brif(more, body, &[], done, &[]);
            self.builder.seal_block(body);
            self.switch_to(body);
            let ptr = self.env.pointer_type;
            let at = self.builder.ins().imul_imm_u(i, esize);
            let at = self.int_as(at, ptr);
            let elem = self.builder.ins().iadd(a.addr, at);
            self.store_field(kind, st, v, elem, ARRAY_ELEMS_OFFSET as i32);
            let next = self.builder.ins().iadd_imm_u(i, 1);
            self.builder.ins().jump(head, &[next.into()]);
            self.builder.seal_block(head);
            self.builder.seal_block(done);
            self.switch_to(done);
        } else {
            for (i, &v) in fixed.iter().enumerate() {
                let off = ARRAY_ELEMS_OFFSET as i64 + i as i64 * esize;
                self.store_field(kind, st, v, a.addr, off as i32);
            }
        }
        let values: Vec<Value> = match init {
            Some(v) => vec![v],
            None => fixed.to_vec(),
        };
        self.finish_alloc(a, |t| {
            let vt = st.unpacked();
            let buf = if values.is_empty() {
                t.builder.ins().iconst(t.env.pointer_type, 0)
            } else {
                t.stack.extend_from_slice(&values);
                t.pop_to_raw_buffer(&vec![vt; values.len()])
            };
            let ty = t.type_index(ty);
            let count = t.builder.ins().iconst(types::I32, values.len() as i64);
            t.call_builtin(Builtin::GcArrayNew, &[ty, buf, count, len])
                .expect("gc_array_new returns a reference")
        });
    }

    fn array_new_segment(&mut self, ty: u32, seg: u32) {
        let (src, len) = self.pop2();
        let t = self.type_index(ty);
        let s = self.builder.ins().iconst(types::I32, i64::from(seg as i32));
        let r = self
            .call_builtin(Builtin::GcArrayNewSegment, &[t, s, src, len])
            .expect("gc_array_new_segment returns a reference");
        self.mark_gc(r);
        self.push(r);
    }

    fn array_init_segment(&mut self, ty: u32, seg: u32) {
        let (src, len) = self.pop2();
        let (arr, index) = self.pop2();
        let t = self.type_index(ty);
        let s = self.builder.ins().iconst(types::I32, i64::from(seg as i32));
        self.call_builtin(Builtin::GcArrayInitSegment, &[t, s, arr, index, src, len]);
    }

    fn struct_get(&mut self, ty: u32, i: u32, signed: bool) {
        let (offset, kind, st) = self.field(ty, i);
        let r = self.pop();
        self.null_check(r);
        let addr = self.object_addr(r);
        let v = self.load_field(kind, st, signed, addr, offset as i32);
        self.push(v);
    }

    /// The address of element `index` of array `r` (null-checked and
    /// bounds-checked), and the static offset to add.
    fn elem_addr(&mut self, r: Value, index: Value, kind: FieldKind) -> (Value, i32) {
        self.null_check(r);
        let obj = self.object_addr(r);
        let len = self
            .builder
            .ins()
            .load(types::I32, heap_flags(), obj, ARRAY_LEN_OFFSET as i32);
        let oob = self
            .builder
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, index, len);
        self.trap_if(oob, TrapCode::ArrayOutOfBounds);
        let i = self.int_as(index, self.env.pointer_type);
        let scaled = self.builder.ins().imul_imm_u(i, i64::from(kind.size()));
        let addr = self.builder.ins().iadd(obj, scaled);
        (addr, ARRAY_ELEMS_OFFSET as i32)
    }

    fn array_get(&mut self, ty: u32, signed: bool) {
        let (kind, st) = self.array_elem(ty);
        let index = self.pop();
        let r = self.pop();
        let (addr, off) = self.elem_addr(r, index, kind);
        let v = self.load_field(kind, st, signed, addr, off);
        self.push(v);
    }

    /// Loads a field of `kind` storing `st` as its wasm value.
    fn load_field(
        &mut self,
        kind: FieldKind,
        st: StorageType,
        signed: bool,
        addr: Value,
        off: i32,
    ) -> Value {
        let f = heap_flags();
        let traced = st.is_traced();
        let ins = self.builder.ins();
        let v = match (kind, st.unpacked()) {
            (FieldKind::I8, _) if signed => ins.sload8(types::I32, f, addr, off),
            (FieldKind::I8, _) => ins.uload8(types::I32, f, addr, off),
            (FieldKind::I16, _) if signed => ins.sload16(types::I32, f, addr, off),
            (FieldKind::I16, _) => ins.uload16(types::I32, f, addr, off),
            (FieldKind::W32, ValType::Ref(_)) => ins.uload32(f, addr, off),
            (FieldKind::V128, _) => ins.load(
                types::I8X16,
                f.with_endianness(ir::Endianness::Little),
                addr,
                off,
            ),
            (_, vt) => ins.load(super::clif_type(vt), f, addr, off),
        };
        if traced {
            self.mark_gc(v);
        }
        v
    }

    /// Stores wasm value `v` as a field of `kind`.
    fn store_field(&mut self, kind: FieldKind, st: StorageType, v: Value, addr: Value, off: i32) {
        let f = heap_flags();
        match (kind, st.unpacked()) {
            (FieldKind::I8, _) => {
                self.builder.ins().istore8(f, v, addr, off);
            }
            (FieldKind::I16, _) => {
                self.builder.ins().istore16(f, v, addr, off);
            }
            (FieldKind::W32, ValType::Ref(_)) => {
                self.builder.ins().istore32(f, v, addr, off);
            }
            (FieldKind::V128, _) => {
                let le = f.with_endianness(ir::Endianness::Little);
                self.builder.ins().store(le, v, addr, off);
            }
            _ => {
                self.builder.ins().store(f, v, addr, off);
            }
        }
    }

    /// Whether `r` is of type `(ref null? hty)`: 1 or 0, an `i32`.
    fn ref_test(
        &mut self,
        r: Value,
        hty: wasmparser::HeapType,
        nullable: bool,
    ) -> Result<Value, CompileError> {
        let module = self.env.module;
        let kind_of = |i: u32| -> TypeKind { module.type_kind(i) };
        let heap = kiln_environ::HeapType::from_wasmparser(hty, &kind_of)
            .ok_or_else(|| CompileError::Unsupported("a shared heap type in a cast".into()))?;
        let (target, flags) = gc_cast::encode(RefType { nullable, heap });
        let t = self.builder.ins().iconst(types::I32, i64::from(target));
        let fl = self.builder.ins().iconst(types::I32, i64::from(flags));
        Ok(self
            .call_builtin(Builtin::GcRefTest, &[r, t, fl])
            .expect("gc_ref_test returns a value"))
    }
}

/// Flags of an access to a GC object: the object exists (the reference
/// was checked for null, the index against the length) and nothing else
/// aliases the heap but the runtime's calls.
fn heap_flags() -> MemFlagsData {
    MemFlagsData::trusted()
}

/// Where a reference was stored, for the write barrier's slow path.
#[derive(Clone, Copy)]
enum FieldAt {
    /// A struct field at this byte offset.
    Offset(u32),
    /// The array element at this index (an `i32`), elements this many
    /// bytes apart.
    Element(Value, u32),
}

/// An inline allocation between [`Translator::bump_alloc`] and
/// [`Translator::finish_alloc`].
struct InlineAlloc {
    /// The new object's address (fast path).
    addr: Value,
    /// Its reference (its offset, as an `i64`).
    obj: Value,
    slow: ir::Block,
    join: ir::Block,
    /// The join block's parameter: the reference either path made.
    result: Value,
}
