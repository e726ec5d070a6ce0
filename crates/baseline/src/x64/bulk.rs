//! Bulk memory and table operators: `table.get`/`set`/`size` inline, the
//! rest through the runtime's builtins, called in the C convention with
//! the `VMContext` first.

use super::asm::{Alu, Cond, Gpr, Mem, R8, R9, R11, RCX, RDI, RDX, RSI, Shift, Size, Src};
use super::{Codegen, Kind, Loc, Operand, VMCTX, unsupported};
use kiln_environ::wasmparser::Operator;
use kiln_environ::{Builtin, CompileError, TrapCode};

/// A builtin argument after the `VMContext`.
enum Arg {
    Imm(u64),
    /// An operand (popped after the registers were spilled, so in memory
    /// or a constant), zero-extended when it is an `i32`.
    Val(Operand),
}

/// The C convention's integer argument registers after the first.
const C_ARGS: [Gpr; 5] = [RSI, RDX, RCX, R8, R9];

impl Codegen<'_, '_> {
    /// Handles bulk memory and table operators; `Ok(false)` for any
    /// other.
    pub(super) fn bulk_op(&mut self, op: &Operator<'_>) -> Result<bool, CompileError> {
        use Operator as O;
        match *op {
            O::MemoryFill { mem } => self.builtin_op(Builtin::MemoryFill, &[mem], 3, None),
            O::MemoryCopy { dst_mem, src_mem } => {
                self.builtin_op(Builtin::MemoryCopy, &[dst_mem, src_mem], 3, None)
            }
            O::MemoryInit { data_index, mem } => {
                self.builtin_op(Builtin::MemoryInit, &[mem, data_index], 3, None)
            }
            O::DataDrop { data_index } => {
                self.builtin_op(Builtin::DataDrop, &[data_index], 0, None)
            }
            O::ElemDrop { elem_index } => {
                self.builtin_op(Builtin::ElemDrop, &[elem_index], 0, None)
            }
            O::TableCopy {
                dst_table,
                src_table,
            } => {
                self.untraced_table(dst_table)?;
                self.builtin_op(Builtin::TableCopy, &[dst_table, src_table], 3, None)
            }
            O::TableInit { elem_index, table } => {
                self.untraced_table(table)?;
                self.builtin_op(Builtin::TableInit, &[table, elem_index], 3, None)
            }
            O::TableFill { table } => {
                self.untraced_table(table)?;
                self.builtin_op(Builtin::TableFill, &[table], 3, None)
            }
            O::TableGrow { table } => {
                self.untraced_table(table)?;
                let kind = self.table_index_kind(table);
                // (init, delta) on the stack; the builtin takes (delta, init).
                self.spill_registers();
                let delta = self.pop();
                let init = self.pop();
                self.builtin_call(
                    Builtin::TableGrow,
                    &[Arg::Imm(u64::from(table)), Arg::Val(delta), Arg::Val(init)],
                );
                self.push(kind, Loc::Gpr(super::RAX));
            }
            O::TableSize { table } => {
                let kind = self.table_index_kind(table);
                let o = &self.env.offsets;
                let (rec, len) = (o.vmctx_table(table) as i32, o.table_len() as i32);
                let r = self.alloc_gpr();
                self.buf.load(Size::S64, r, Mem::at(VMCTX, rec));
                self.buf.load(Size::S32, r, Mem::at(r, len));
                self.push(kind, Loc::Gpr(r));
            }
            O::TableGet { table } => {
                self.untraced_table(table)?;
                let index = self.pop();
                let r = self.in_gpr(&index);
                self.table_element(table, r)?;
                self.buf.load(Size::S64, r, Mem::at(R11, 0));
                self.push(Kind::I64, Loc::Gpr(r));
            }
            O::TableSet { table } => {
                self.untraced_table(table)?;
                let value = self.pop();
                let index = self.pop();
                let v = self.in_gpr(&value);
                let r = self.in_gpr(&index);
                self.table_element(table, r)?;
                self.buf.store(Size::S64, Mem::at(R11, 0), v);
                self.free(Loc::Gpr(v));
                self.free(Loc::Gpr(r));
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Refuses tables of traced references (their values need stack maps).
    fn untraced_table(&self, table: u32) -> Result<(), CompileError> {
        let ty = self.env.module.tables[table as usize].element;
        if kiln_environ::ValType::Ref(ty).is_traced() {
            return Err(unsupported("tables of traced references"));
        }
        Ok(())
    }

    fn table_index_kind(&self, table: u32) -> Kind {
        if self.env.module.tables[table as usize].table64 {
            Kind::I64
        } else {
            Kind::I32
        }
    }

    /// Leaves the address of element `index` (in `r`, overwritten) of
    /// `table` in r11, trapping when it is out of bounds.
    fn table_element(&mut self, table: u32, r: Gpr) -> Result<(), CompileError> {
        let table64 = self.env.module.tables[table as usize].table64;
        let o = &self.env.offsets;
        let (rec, len, base) = (
            o.vmctx_table(table) as i32,
            o.table_len() as i32,
            o.table_base() as i32,
        );
        if o.table_element_size() != 8 {
            return Err(unsupported("table elements that are not 8 bytes"));
        }
        if !table64 {
            self.buf.mov_rr(Size::S32, r, r);
        }
        self.buf.load(Size::S64, R11, Mem::at(VMCTX, rec));
        // The length is a u32, zero-extended by the 32-bit load; a table64
        // index compares with it in 64 bits.
        let t = self.alloc_gpr();
        self.buf.load(Size::S32, t, Mem::at(R11, len));
        self.buf.alu(Alu::Cmp, Size::S64, r, Src::Reg(t));
        self.free(Loc::Gpr(t));
        self.trap_if(Cond::Ae, TrapCode::TableOutOfBounds);
        self.buf.load(Size::S64, R11, Mem::at(R11, base));
        self.buf.shift(Shift::Shl, Size::S64, r, Some(3));
        self.buf.alu(Alu::Add, Size::S64, R11, Src::Reg(r));
        Ok(())
    }

    /// A builtin taking immediates `imms`, then the top `operands` stack
    /// operands in stack order, and returning `result` if any.
    pub(super) fn builtin_op(
        &mut self,
        b: Builtin,
        imms: &[u32],
        operands: usize,
        result: Option<Kind>,
    ) {
        self.spill_registers();
        let mut args: Vec<Arg> = imms.iter().map(|&i| Arg::Imm(u64::from(i))).collect();
        let mut vals: Vec<Arg> = (0..operands).map(|_| Arg::Val(self.pop())).collect();
        vals.reverse();
        args.extend(vals);
        self.builtin_call(b, &args);
        if let Some(kind) = result {
            self.push(kind, Loc::Gpr(super::RAX));
        }
    }

    /// Loads the arguments (registers already spilled) and calls `b`.
    fn builtin_call(&mut self, b: Builtin, args: &[Arg]) {
        self.fuel_flush();
        for (arg, &reg) in args.iter().zip(&C_ARGS) {
            match arg {
                Arg::Imm(v) => self.buf.mov_imm(Size::S64, reg, *v),
                // A 32-bit load zero-extends; a local's home register
                // holds an i32 zero-extended only once copied with `movl`.
                Arg::Val(o) => {
                    self.load_bits(o, reg);
                    if o.kind == Kind::I32 {
                        self.buf.mov_rr(Size::S32, reg, reg);
                    }
                }
            }
        }
        self.buf.mov_rr(Size::S64, RDI, VMCTX);
        self.call_builtin(b);
    }
}
