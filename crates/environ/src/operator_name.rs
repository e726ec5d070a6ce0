//! Names of WebAssembly operators for error messages.
//!
//! `Operator`'s `Debug` output would name an operator too, but its code is
//! one large formatting function per crate that uses it (17 KB each on a
//! Cortex-M build); a name is all an error needs, and this match compiles
//! to a table lookup.

macro_rules! define_operator_name {
    ($( @$proposal:ident $op:ident $({ $($arg:ident: $argty:ty),* })? => $visit:ident ($($ann:tt)*) )*) => {
        /// The name of `op`'s instruction as wasmparser spells its variant
        /// (`I32Add`, `TryTable`, `V128Load`...), for messages about
        /// operators a backend does not support.
        pub fn operator_name(op: &wasmparser::Operator<'_>) -> &'static str {
            #[allow(unreachable_patterns, reason = "Operator is non_exhaustive")]
            match op {
                $( wasmparser::Operator::$op { .. } => stringify!($op), )*
                _ => "an operator unknown to this Kiln",
            }
        }
    };
}

wasmparser::for_each_operator!(define_operator_name);

#[cfg(test)]
mod tests {
    use super::operator_name;
    use wasmparser::Operator;

    #[test]
    fn names_operators_by_variant() {
        assert_eq!(operator_name(&Operator::I32Add), "I32Add");
        assert_eq!(
            operator_name(&Operator::LocalGet { local_index: 3 }),
            "LocalGet"
        );
        #[cfg(feature = "simd")]
        assert_eq!(operator_name(&Operator::I8x16Swizzle), "I8x16Swizzle");
    }
}
