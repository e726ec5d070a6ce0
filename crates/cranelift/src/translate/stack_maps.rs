//! Which SSA values hold references the collector traces, so that
//! Cranelift records them in stack maps (`docs/gc.md`, "Roots,
//! precisely").
//!
//! The translator notes the values that *define* a traced reference where
//! it knows their wasm type (parameters, call results, `global.get`,
//! `table.get`, struct and array reads, allocations, exception payloads):
//! the seeds. Everything else that carries a reference is a block
//! parameter (wasm blocks, and the frontend's SSA construction for locals)
//! or a `select`, and gets its reference from a seed along branch
//! arguments; [`Translator::declare_gc_values`] follows those edges to a
//! fixpoint once the function is complete (a loop's back-edge is only
//! seen after its body) and declares every value reached. Cranelift then
//! spills them to stack slots around each call, records the slots in the
//! call's user stack map, and reloads them after it, so a moving
//! collection can rewrite them. A function without seeds pays nothing.

use super::Translator;
use cranelift_codegen::entity::EntitySet;
use cranelift_codegen::ir::{BlockArg, Opcode, Value};
use kiln_environ::ValType;

impl Translator<'_, '_> {
    /// Notes that `v` defines a traced reference.
    pub(super) fn mark_gc(&mut self, v: Value) {
        self.gc_seeds.push(v);
    }

    /// Notes the values among `vals` whose wasm type in `tys` is traced.
    pub(super) fn mark_gc_typed(&mut self, vals: &[Value], tys: &[ValType]) {
        for (&v, t) in vals.iter().zip(tys) {
            if t.is_traced() {
                self.gc_seeds.push(v);
            }
        }
    }

    /// Declares every value that may hold a traced reference as needing a
    /// stack map: the seeds and what they flow into.
    pub(super) fn declare_gc_values(&mut self) {
        if self.gc_seeds.is_empty() {
            return;
        }
        let func = &*self.builder.func;
        let dfg = &func.dfg;
        // (from, to): `to` may hold what `from` holds.
        let mut edges: Vec<(Value, Value)> = Vec::new();
        for block in func.layout.blocks() {
            for inst in func.layout.block_insts(block) {
                let data = &dfg.insts[inst];
                for call in data.branch_destination(&dfg.jump_tables, &dfg.exception_tables) {
                    let params = dfg.block_params(call.block(&dfg.value_lists));
                    for (arg, &param) in call.args(&dfg.value_lists).zip(params) {
                        if let BlockArg::Value(v) = arg {
                            edges.push((dfg.resolve_aliases(v), param));
                        }
                    }
                }
                if data.opcode() == Opcode::Select {
                    let args = dfg.inst_args(inst);
                    let result = dfg.first_result(inst);
                    edges.push((dfg.resolve_aliases(args[1]), result));
                    edges.push((dfg.resolve_aliases(args[2]), result));
                }
            }
        }
        edges.sort_unstable();
        let mut traced: EntitySet<Value> = EntitySet::new();
        let mut work: Vec<Value> = self
            .gc_seeds
            .iter()
            .map(|&v| dfg.resolve_aliases(v))
            .collect();
        while let Some(v) = work.pop() {
            if !traced.insert(v) {
                continue;
            }
            let start = edges.partition_point(|&(from, _)| from < v);
            for &(from, to) in &edges[start..] {
                if from != v {
                    break;
                }
                if !traced.contains(to) {
                    work.push(to);
                }
            }
        }
        let values: Vec<Value> = traced.keys().filter(|&v| traced.contains(v)).collect();
        for v in values {
            self.builder.declare_value_needs_stack_map(v);
        }
    }
}
