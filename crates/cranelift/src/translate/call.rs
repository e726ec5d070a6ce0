//! Calls: `call`, `call_indirect`, and the tail calls `return_call` and
//! `return_call_indirect`.
//!
//! Every wasm function takes `(callee_vmctx, caller_vmctx, params…)` in
//! Cranelift's `tail` convention. A call to a function defined in the same
//! module is a direct call relocated against the callee's function index;
//! a call to an import loads the code pointer and callee `VMContext` from
//! the import's `VMContext` entry; `call_indirect` loads a funcref record
//! from the table and checks it is non-null and of the expected signature
//! (engine-wide ids, so the check is one integer compare).

use super::{Field, NS_WASM_FUNC, Translator, wasm_signature};
use crate::CompileError;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{self, InstBuilder, Value, types};
use kiln_environ::{Builtin, TrapCode};
use wasmparser::Operator;

/// Where a call goes.
enum Callee {
    /// A defined function of this module, by function index.
    Direct(u32),
    /// A code pointer and the callee's `VMContext`.
    Indirect { code: Value, vmctx: Value },
}

impl Translator<'_, '_> {
    /// Handles the call operators; `Ok(false)` if `op` is not one.
    pub(super) fn translate_call_op(&mut self, op: &Operator<'_>) -> Result<bool, CompileError> {
        use Operator as O;
        match op {
            O::Call { function_index } => self.call_func(*function_index, false),
            O::ReturnCall { function_index } => self.call_func(*function_index, true),
            O::CallIndirect {
                type_index,
                table_index,
            } => self.call_indirect(*type_index, *table_index, false),
            O::ReturnCallIndirect {
                type_index,
                table_index,
            } => self.call_indirect(*type_index, *table_index, true),
            O::CallRef { type_index } => self.call_ref(*type_index, false),
            O::ReturnCallRef { type_index } => self.call_ref(*type_index, true),
            O::RefAsNonNull => {
                let r = *self.stack.last().expect("validated: a reference");
                self.trap_unless(r, TrapCode::NullReference);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// `call_ref` and `return_call_ref`: the reference's type is the
    /// callee's, as validation proved, so only null needs a check.
    fn call_ref(&mut self, type_index: u32, tail: bool) {
        let bits = self.pop();
        let funcref = self.ref_to_ptr(bits);
        self.trap_unless(funcref, TrapCode::NullReference);
        let o = &self.env.offsets;
        let (code_off, vmctx_off) = (o.funcref_wasm_call(), o.funcref_vmctx());
        let code = self.load_ptr(funcref, code_off, Field::Readonly);
        let vmctx = self.load_ptr(funcref, vmctx_off, Field::Readonly);
        self.emit_call(type_index, Callee::Indirect { code, vmctx }, tail);
    }

    fn call_func(&mut self, func_index: u32, tail: bool) {
        let module = self.env.module;
        let type_index = module.functions[func_index as usize];
        let callee = if module.is_imported_func(func_index) {
            let o = &self.env.offsets;
            let code_off = o.vmctx_imported_func_wasm_call(func_index);
            let vmctx_off = o.vmctx_imported_func_vmctx(func_index);
            let code = self.load_ptr(self.vmctx, code_off, Field::Const);
            let vmctx = self.load_ptr(self.vmctx, vmctx_off, Field::Const);
            Callee::Indirect { code, vmctx }
        } else {
            Callee::Direct(func_index)
        };
        let polls = matches!(callee, Callee::Direct(_));
        self.emit_call(type_index, callee, tail);
        // A function of this module polls the interrupt flag on entry
        // (imports may be host functions, which do not).
        if polls {
            self.interrupt_polled = true;
        }
    }

    fn call_indirect(&mut self, type_index: u32, table: u32, tail: bool) {
        let index = self.pop();
        let addr = self.table_elem_addr(table, index, TrapCode::UndefinedElement);
        let flags = self.table_elem_flags();
        let bits = self.builder.ins().load(types::I64, flags, addr, 0);
        let funcref = self.ref_to_ptr(bits);
        self.trap_unless(funcref, TrapCode::IndirectCallToNull);

        // A funcref record never changes once the runtime published it, but
        // it may only be read after the null check.
        let ro = self.vm_flags(Field::Readonly);
        let o = &self.env.offsets;
        let (sig_off, code_off, vmctx_off, sigs_off) = (
            o.funcref_sig() as i32,
            o.funcref_wasm_call(),
            o.funcref_vmctx(),
            o.vmctx_signature_ids(),
        );
        let actual = self.builder.ins().load(types::I32, ro, funcref, sig_off);
        let sigs = self.load_ptr(self.vmctx, sigs_off, Field::Const);
        // The engine-wide id of a type of this module is fixed before any
        // code runs.
        let fixed = self.vm_flags(Field::Const);
        let expected = self
            .builder
            .ins()
            .load(types::I32, fixed, sigs, (type_index * 4) as i32);
        let mismatch = self.builder.ins().icmp(IntCC::NotEqual, actual, expected);
        if self.env.module.types[type_index as usize].is_final {
            // No type declares a final type as its supertype: only equal
            // ids match.
            self.trap_if(mismatch, TrapCode::BadSignature);
        } else {
            // A function of a subtype matches too; asking the runtime is
            // the cold path, taken only when the ids differ.
            let slow = self.builder.create_block();
            let done = self.builder.create_block();
            self.builder.set_cold_block(slow);
            self.builder.ins().brif(mismatch, slow, &[], done, &[]);
            self.builder.switch_to_block(slow);
            self.builder.seal_block(slow);
            let ok = self
                .call_builtin(Builtin::IsSubtype, &[actual, expected])
                .expect("is_subtype returns a value");
            self.trap_unless(ok, TrapCode::BadSignature);
            self.builder.ins().jump(done, &[]);
            self.builder.switch_to_block(done);
            self.builder.seal_block(done);
        }
        let code = self.load_ptr(funcref, code_off, Field::Readonly);
        let vmctx = self.load_ptr(funcref, vmctx_off, Field::Readonly);
        self.emit_call(type_index, Callee::Indirect { code, vmctx }, tail);
    }

    /// The function reference of this module's wasm function `index`.
    fn wasm_func_ref(&mut self, index: u32, sig: ir::SigRef) -> ir::FuncRef {
        let name = self
            .builder
            .func
            .declare_imported_user_function(ir::UserExternalName::new(NS_WASM_FUNC, index));
        self.builder.import_function(ir::ExtFuncData {
            name: ir::ExternalName::user(name),
            signature: sig,
            colocated: true,
            patchable: false,
        })
    }

    fn emit_call(&mut self, type_index: u32, callee: Callee, tail: bool) {
        // The callee may grow a memory.
        self.heap_cache.clear();
        let ty = self.env.module.signature(type_index);
        let nparams = ty.params.len();
        self.fuel_flush();
        let sig = wasm_signature(self.env.pointer_type, ty);
        let mut args = Vec::with_capacity(nparams + 2);
        let callee_vmctx = match callee {
            Callee::Direct(_) => self.vmctx,
            Callee::Indirect { vmctx, .. } => vmctx,
        };
        args.push(callee_vmctx);
        args.push(self.vmctx);
        args.extend_from_slice(self.peekn(nparams));
        let new_len = self.stack.len() - nparams;
        self.stack.truncate(new_len);
        // A call in a handler scope may raise an exception: a `try_call`,
        // whose normal return continues in a new block.
        let handler = if tail { None } else { self.call_handler() };
        if let Some(handler) = handler {
            let result_tys: Vec<ir::Type> =
                ty.results.iter().map(|&t| super::clif_type(t)).collect();
            let sig = self.builder.import_signature(sig);
            let after = self.builder.create_block();
            for t in &result_tys {
                self.builder.append_block_param(after, *t);
            }
            let table = self.exception_table(sig, after, result_tys.len(), Some(handler));
            match callee {
                Callee::Direct(index) => {
                    let fref = self.wasm_func_ref(index, sig);
                    self.builder.ins().try_call(fref, &args, table);
                }
                Callee::Indirect { code, .. } => {
                    self.builder.ins().try_call_indirect(code, &args, table);
                }
            }
            self.builder.seal_block(after);
            self.switch_to(after);
            let results = self.builder.block_params(after).to_vec();
            self.mark_gc_typed(&results, &ty.results);
            self.stack.extend(results);
            return;
        }
        let inst = match callee {
            Callee::Direct(index) => {
                let sig = self.builder.import_signature(sig);
                let fref = self.wasm_func_ref(index, sig);
                if tail {
                    self.builder.ins().return_call(fref, &args)
                } else {
                    self.builder.ins().call(fref, &args)
                }
            }
            Callee::Indirect { code, .. } => {
                let sig = self.builder.import_signature(sig);
                if tail {
                    self.builder.ins().return_call_indirect(sig, code, &args)
                } else {
                    self.builder.ins().call_indirect(sig, code, &args)
                }
            }
        };
        if tail {
            self.reachable = false;
        } else {
            let results = self.builder.inst_results(inst).to_vec();
            self.mark_gc_typed(&results, &ty.results);
            self.stack.extend(results);
        }
    }
}
