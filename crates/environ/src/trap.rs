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
    /// `ref.cast` of a value not of the target type.
    CastFailure,
    /// An array access or bulk array operation out of the array's bounds.
    ArrayOutOfBounds,
    /// The GC heap could not make room for an allocation within its
    /// limit.
    GcHeapOutOfMemory,
}

impl TrapCode {
    /// Every trap code, in a fixed order: a code's position here is how
    /// precompiled artifacts store it, so new codes go at the end.
    pub const ALL: &'static [TrapCode] = &[
        TrapCode::UnreachableCodeReached,
        TrapCode::MemoryOutOfBounds,
        TrapCode::TableOutOfBounds,
        TrapCode::UndefinedElement,
        TrapCode::IndirectCallToNull,
        TrapCode::BadSignature,
        TrapCode::IntegerOverflow,
        TrapCode::IntegerDivisionByZero,
        TrapCode::BadConversionToInteger,
        TrapCode::StackOverflow,
        TrapCode::OutOfFuel,
        TrapCode::Interrupt,
        TrapCode::NullReference,
        TrapCode::CastFailure,
        TrapCode::ArrayOutOfBounds,
        TrapCode::GcHeapOutOfMemory,
    ];

    /// This code's position in [`TrapCode::ALL`]: how artifacts store it
    /// and how code compiled without signals passes it to the `trap`
    /// builtin.
    pub fn index(self) -> u32 {
        // `ALL` lists every variant (a test pins it), so the search always
        // succeeds; it is a short scan of a constant table.
        TrapCode::ALL.iter().position(|c| *c == self).unwrap_or(0) as u32
    }

    /// The code at position `index` of [`TrapCode::ALL`], if any.
    pub fn from_index(index: u32) -> Option<TrapCode> {
        TrapCode::ALL.get(index as usize).copied()
    }

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
            TrapCode::CastFailure => "cast failure",
            TrapCode::ArrayOutOfBounds => "out of bounds array access",
            TrapCode::GcHeapOutOfMemory => "GC heap out of memory",
        }
    }
}

impl fmt::Display for TrapCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

#[cfg(test)]
mod all_tests {
    use super::TrapCode;

    #[test]
    fn all_lists_each_code_once() {
        // Written as a match so that a new variant fails to compile here
        // until it is added to `ALL` too.
        let position = |c: TrapCode| match c {
            TrapCode::UnreachableCodeReached => 0,
            TrapCode::MemoryOutOfBounds => 1,
            TrapCode::TableOutOfBounds => 2,
            TrapCode::UndefinedElement => 3,
            TrapCode::IndirectCallToNull => 4,
            TrapCode::BadSignature => 5,
            TrapCode::IntegerOverflow => 6,
            TrapCode::IntegerDivisionByZero => 7,
            TrapCode::BadConversionToInteger => 8,
            TrapCode::StackOverflow => 9,
            TrapCode::OutOfFuel => 10,
            TrapCode::Interrupt => 11,
            TrapCode::NullReference => 12,
            TrapCode::CastFailure => 13,
            TrapCode::ArrayOutOfBounds => 14,
            TrapCode::GcHeapOutOfMemory => 15,
        };
        assert_eq!(TrapCode::ALL.len(), 16);
        for (i, c) in TrapCode::ALL.iter().enumerate() {
            assert_eq!(position(*c), i, "{c:?}");
            assert_eq!(c.index() as usize, i, "{c:?}");
            assert_eq!(TrapCode::from_index(i as u32), Some(*c));
        }
        assert_eq!(TrapCode::from_index(TrapCode::ALL.len() as u32), None);
    }
}
