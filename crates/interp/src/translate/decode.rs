//! Decoding a function body once for both the validator and the translator.
//!
//! Reading each operator into a `wasmparser::Operator` and then handing it
//! to `FuncValidator::op` costs two dispatches over the whole operator set
//! on top of the translator's own: the reader's factory builds the enum
//! (and returns it through memory), and the validator matches it again to
//! find its `visit_*` method. Here the reader calls [`Step`]'s `visit_*`
//! method straight from its opcode switch; that method runs the
//! validator's method of the same name directly and only then builds the
//! `Operator` the translator matches on. (Profile of eager translation of
//! `regex.wasm` before this: decoding into `Operator` 30%, validation 21%;
//! docs/performance.md.)

use super::FuncTranslator;
use alloc::vec::Vec;
use kiln_environ::TranslationError;
#[cfg(feature = "simd")]
use wasmparser::VisitSimdOperator;
use wasmparser::{FuncValidator, Operator, ValidatorResources, VisitOperator};

/// One operator's visit: the validator (if the body is not validated yet)
/// and the translator, at the operator's wasm offset.
pub(super) struct Step<'s, 'v, 't> {
    pub ft: &'s mut FuncTranslator<'t>,
    pub validator: Option<&'v mut FuncValidator<ValidatorResources>>,
    pub offset: u64,
}

impl Step<'_, '_, '_> {
    /// Translates the (validated) operator, or skips it in unreachable code.
    #[inline(always)]
    fn translate(&mut self, op: Operator<'_>) -> Result<(), TranslationError> {
        let ft = &mut *self.ft;
        ft.offset = self.offset as u32;
        if ft.is_unreachable() {
            ft.skip(&op);
            return Ok(());
        }
        ft.fuel_count += 1;
        ft.visit(&op)?;
        #[cfg(debug_assertions)]
        if let Some(v) = self.validator.as_deref() {
            self.ft.check_gc_bits(v);
        }
        Ok(())
    }
}

impl FuncTranslator<'_> {
    /// Debug builds: checks each operand-stack entry's traced-reference
    /// bit against the type the validator gives the same operand, so a
    /// push site that forgets the bit (and would leave a root out of the
    /// collector's tables) fails the spec tests instead of corrupting a
    /// heap.
    #[cfg(debug_assertions)]
    fn check_gc_bits(&self, v: &FuncValidator<ValidatorResources>) {
        if self.is_unreachable() || v.operand_stack_height() as usize != self.stack.len() {
            return;
        }
        for (depth, e) in self.stack.iter().rev().enumerate() {
            if let Some(Some(ty)) = v.get_operand_type(depth) {
                // The validator names concrete types by its own ids.
                let traced = match ty.as_reference_type().map(|r| r.heap_type()) {
                    Some(wasmparser::HeapType::Concrete(wasmparser::UnpackedIndex::Id(id))) => {
                        use wasmparser::{CompositeInnerType as C, WasmModuleResources};
                        !matches!(
                            v.resources().sub_type_at_id(id).composite_type.inner,
                            C::Func(_)
                        )
                    }
                    _ => self.wp_traced(ty),
                };
                assert_eq!(
                    traced, e.gc,
                    "operand {depth} from the top ({ty}) after the op at {:#x}",
                    self.offset
                );
            }
        }
    }
}

/// The `visit_*` methods of `for_each_visit_operator!` (or its SIMD twin):
/// validate with the validator's method of the same name, then translate.
/// `$visitor` names the `FuncValidator` method that makes the validator's
/// visitor for this operator set.
macro_rules! validate_then_translate {
    ($visitor:ident $( @$proposal:ident $op:ident $({ $($arg:ident: $argty:ty),* })? => $visit:ident ($($ann:tt)*))*) => {
        $(
            #[allow(clippy::clone_on_copy)]
            fn $visit(&mut self $($(, $arg: $argty)*)?) -> Self::Output {
                if let Some(v) = self.validator.as_deref_mut() {
                    // Arguments that are not `Copy` (branch tables,
                    // `try_table` clauses) borrow the body, so the clone
                    // is a few words.
                    v.$visitor(self.offset).$visit($($($arg.clone()),*)?)?;
                }
                self.translate(Operator::$op $({ $($arg),* })?)
            }
        )*
    };
}

macro_rules! core_visitor {
    ($($t:tt)*) => {
        validate_then_translate!(visitor $($t)*);
    };
}

impl<'a> VisitOperator<'a> for Step<'_, '_, '_> {
    type Output = Result<(), TranslationError>;

    #[cfg(feature = "simd")]
    fn simd_visitor(&mut self) -> Option<&mut dyn VisitSimdOperator<'a, Output = Self::Output>> {
        Some(self)
    }

    wasmparser::for_each_visit_operator!(core_visitor);
}

#[cfg(feature = "simd")]
macro_rules! simd_visitor {
    ($($t:tt)*) => {
        validate_then_translate!(simd_visitor $($t)*);
    };
}

#[cfg(feature = "simd")]
impl<'a> VisitSimdOperator<'a> for Step<'_, '_, '_> {
    wasmparser::for_each_visit_simd_operator!(simd_visitor);
}
