//! Trap codes: why wasm execution stopped abnormally. Shared by every
//! backend, so a trap reads the same whichever backend ran the code.

use core::fmt;

/// The reason a wasm trap was raised.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TrapCode {
    /// `unreachable` was executed.
    UnreachableCodeReached,
    /// A load or store or bulk memory op fell outside linear memory.
    MemoryOutOfBounds,
    /// A table access (get, set, fill, copy, init) was out of bounds.
    TableOutOfBounds,
    /// `call_indirect` used an index past the end of the table.
    UndefinedElement,
    /// `call_indirect` found a null entry.
    IndirectCallToNull,
    /// `call_indirect` found a function of another signature.
    BadSignature,
    /// Signed integer division overflowed (`INT_MIN / -1`).
    IntegerOverflow,
    /// Integer division or remainder by zero.
    IntegerDivisionByZero,
    /// A float-to-int truncation of NaN or out-of-range value.
    BadConversionToInteger,
    /// The wasm call stack exceeded its configured maximum.
    StackOverflow,
    /// Fuel ran out.
    OutOfFuel,
    /// Execution was interrupted from another thread.
    Interrupt,
    /// An element or data segment reference was to a null or dropped item,
    /// or a null reference was dereferenced.
    NullReference,
}

impl TrapCode {
    /// The message the spec test suite expects for this trap.
    pub fn message(self) -> &'static str {
        match self {
            TrapCode::UnreachableCodeReached => "unreachable",
            TrapCode::MemoryOutOfBounds => "out of bounds memory access",
            TrapCode::TableOutOfBounds => "out of bounds table access",
            TrapCode::UndefinedElement => "undefined element",
            TrapCode::IndirectCallToNull => "uninitialized element",
            TrapCode::BadSignature => "indirect call type mismatch",
            TrapCode::IntegerOverflow => "integer overflow",
            TrapCode::IntegerDivisionByZero => "integer divide by zero",
            TrapCode::BadConversionToInteger => "invalid conversion to integer",
            TrapCode::StackOverflow => "call stack exhausted",
            TrapCode::OutOfFuel => "all fuel consumed",
            TrapCode::Interrupt => "interrupted",
            TrapCode::NullReference => "null reference",
        }
    }
}

impl fmt::Display for TrapCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}
