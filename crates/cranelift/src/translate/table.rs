//! Tables and references: `table.get/set/size` inline (a bounds check and
//! one access to the `u64` element array), `table.grow/fill/copy/init` and
//! `elem.drop` through builtins, and `ref.null`, `ref.is_null`,
//! `ref.func`.
//!
//! A reference is its 64-bit bits: 0 is null, a `funcref` is the address of
//! a funcref record (zero-extended on 32-bit targets), an `externref` is
//! the runtime's non-zero id.

use super::{Field, Translator};
use crate::CompileError;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{InstBuilder, MemFlagsData, Value, types};
use kiln_environ::{Builtin, TrapCode};
use wasmparser::Operator;

impl Translator<'_, '_> {
    /// The address of table `table`'s `{ base, len }` record.
    pub fn table_record(&mut self, table: u32) -> Value {
        let off = self.env.offsets.vmctx_table(table);
        self.load_ptr(self.vmctx, off, Field::Const)
    }

    /// Table elements: runtime-owned, native byte order, never faulting.
    pub fn table_elem_flags(&self) -> MemFlagsData {
        MemFlagsData::trusted().with_alias_region(Some(self.regions.table))
    }

    /// The address of element `index` (an `i32`, or an `i64` for table64)
    /// of table `table`, trapping with `code` when `index` is not below
    /// the table's length.
    pub fn table_elem_addr(&mut self, table: u32, index: Value, code: TrapCode) -> Value {
        let record = self.table_record(table);
        let flags = self.vm_flags(Field::Record);
        let len_off = self.env.offsets.table_len() as i32;
        let len = self.builder.ins().load(types::I32, flags, record, len_off);
        let index_ty = self.builder.func.dfg.value_type(index);
        // A table's length is an `i32` (the runtime caps tables at 2^32 - 1
        // elements); a table64 index is compared in 64 bits.
        let len = self.int_as(len, index_ty);
        let oob = self
            .builder
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, index, len);
        self.trap_if(oob, code);
        let base_off = self.env.offsets.table_base();
        let base = self.load_ptr(record, base_off, Field::Record);
        let ptr = self.env.pointer_type;
        let idx = self.int_as(index, ptr);
        let scaled = self
            .builder
            .ins()
            .imul_imm_u(idx, i64::from(self.env.offsets.table_element_size()));
        self.builder.ins().iadd(base, scaled)
    }

    /// The value type of table `table`'s indices.
    fn table_index_type(&self, table: u32) -> types::Type {
        if self.env.module.tables[table as usize].table64 {
            types::I64
        } else {
            types::I32
        }
    }

    /// A pointer-sized value as reference bits.
    pub fn ptr_to_ref(&mut self, p: Value) -> Value {
        if self.env.pointer_type == types::I64 {
            p
        } else {
            self.builder.ins().uextend(types::I64, p)
        }
    }

    /// Reference bits as a pointer-sized value.
    pub fn ref_to_ptr(&mut self, r: Value) -> Value {
        if self.env.pointer_type == types::I64 {
            r
        } else {
            self.builder.ins().ireduce(self.env.pointer_type, r)
        }
    }

    /// Handles table and reference operators; `Ok(false)` otherwise.
    pub(super) fn translate_table_op(&mut self, op: &Operator<'_>) -> Result<bool, CompileError> {
        use Operator as O;
        use types::{I32, I64};
        match op {
            O::TableGet { table } => {
                let index = self.pop();
                let addr = self.table_elem_addr(*table, index, TrapCode::TableOutOfBounds);
                let flags = self.table_elem_flags();
                let v = self.builder.ins().load(I64, flags, addr, 0);
                if self.env.module.tables[*table as usize].element.is_traced() {
                    self.mark_gc(v);
                }
                self.push(v);
            }
            O::TableSet { table } => {
                let (index, value) = self.pop2();
                let addr = self.table_elem_addr(*table, index, TrapCode::TableOutOfBounds);
                let flags = self.table_elem_flags();
                self.builder.ins().store(flags, value, addr, 0);
            }
            O::TableSize { table } => {
                let record = self.table_record(*table);
                let flags = self.vm_flags(Field::Record);
                let off = self.env.offsets.table_len() as i32;
                let v = self.builder.ins().load(I32, flags, record, off);
                let v = self.int_as(v, self.table_index_type(*table));
                self.push(v);
            }
            O::TableGrow { table } => {
                let (init, delta) = self.pop2();
                self.fuel_flush();
                let t = self.builder.ins().iconst(I32, i64::from(*table));
                let delta = self.int_as(delta, types::I64);
                let old = self
                    .call_builtin(Builtin::TableGrow, &[t, delta, init])
                    .expect("result");
                let v = self.int_as(old, self.table_index_type(*table));
                self.push(v);
            }
            O::TableFill { table } => {
                let (dst, val, len) = self.pop3();
                self.fuel_flush();
                let t = self.builder.ins().iconst(I32, i64::from(*table));
                let (dst, len) = (self.int_as(dst, types::I64), self.int_as(len, types::I64));
                self.call_builtin(Builtin::TableFill, &[t, dst, val, len]);
            }
            O::TableCopy {
                dst_table,
                src_table,
            } => {
                let (dst, src, len) = self.pop3();
                self.fuel_flush();
                let d = self.builder.ins().iconst(I32, i64::from(*dst_table));
                let s = self.builder.ins().iconst(I32, i64::from(*src_table));
                let [dst, src, len] = [dst, src, len].map(|v| self.int_as(v, types::I64));
                self.call_builtin(Builtin::TableCopy, &[d, s, dst, src, len]);
            }
            O::TableInit { elem_index, table } => {
                let (dst, src, len) = self.pop3();
                self.fuel_flush();
                let t = self.builder.ins().iconst(I32, i64::from(*table));
                let e = self.builder.ins().iconst(I32, i64::from(*elem_index));
                let dst = self.int_as(dst, types::I64);
                self.call_builtin(Builtin::TableInit, &[t, e, dst, src, len]);
            }
            O::ElemDrop { elem_index } => {
                self.fuel_flush();
                let e = self.builder.ins().iconst(I32, i64::from(*elem_index));
                self.call_builtin(Builtin::ElemDrop, &[e]);
            }
            O::RefNull { .. } => {
                let v = self.builder.ins().iconst(I64, 0);
                self.push(v);
            }
            O::RefIsNull => {
                let r = self.pop();
                let is_null = self.builder.ins().icmp_imm_u(IntCC::Equal, r, 0);
                let v = self.builder.ins().uextend(I32, is_null);
                self.push(v);
            }
            O::RefFunc { function_index } => {
                // The runtime keeps one funcref record per function and
                // stores its address in the VMContext.
                let off = self.env.offsets.vmctx_funcref(*function_index);
                let p = self.load_ptr(self.vmctx, off, Field::Const);
                let v = self.ptr_to_ref(p);
                self.push(v);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}
