//! The one error type of translation: a message and the byte offset in the
//! binary where decoding or validation failed.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// Why a module could not be translated, with the offending byte offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranslationError {
    /// Human-readable reason, as given by the decoder or validator.
    pub message: String,
    /// Byte offset into the module binary where the problem was found.
    pub offset: u64,
    /// True when the module is valid but uses something Kiln does not
    /// support (made by [`TranslationError::unsupported`]); false when the
    /// decoder or validator rejected it.
    pub unsupported: bool,
}

impl TranslationError {
    /// An error for something Kiln does not support, at `offset`.
    pub fn unsupported(message: impl Into<String>, offset: u64) -> Self {
        Self {
            message: message.into(),
            offset,
            unsupported: true,
        }
    }
}

impl fmt::Display for TranslationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at offset {:#x})", self.message, self.offset)
    }
}

impl core::error::Error for TranslationError {}

impl From<wasmparser::BinaryReaderError> for TranslationError {
    fn from(e: wasmparser::BinaryReaderError) -> Self {
        Self {
            // Some wasmparser messages span lines (pretty-printed byte
            // arrays); an error is reported on one line.
            message: e.message().split_whitespace().collect::<Vec<_>>().join(" "),
            offset: e.offset(),
            unsupported: false,
        }
    }
}
