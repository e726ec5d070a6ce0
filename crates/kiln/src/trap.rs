//! [`Trap`]: the error inside an `anyhow::Error` when wasm traps, with its
//! wasm backtrace.

use crate::prelude::*;
use core::fmt;
use kiln_environ::TrapCode;

/// A wasm trap: why execution stopped, and the wasm frames it unwound.
///
/// Traps reach the embedder as an [`anyhow::Error`]; get at this with
/// `err.downcast_ref::<kiln::Trap>()`.
///
/// Displays as the trap message (e.g. `out of bounds memory access`), then,
/// when frames are known, `wasm backtrace:` and one line per frame,
/// innermost first.
#[derive(Debug, Clone)]
pub struct Trap {
    pub(crate) code: Option<TrapCode>,
    pub(crate) trace: Vec<FrameInfo>,
}

impl Trap {
    pub(crate) fn new(code: TrapCode, trace: Vec<FrameInfo>) -> Trap {
        Trap {
            code: Some(code),
            trace,
        }
    }

    /// The trap code.
    pub fn code(&self) -> Option<TrapCode> {
        self.code
    }

    /// The wasm frames the trap unwound, innermost first.
    pub fn trace(&self) -> &[FrameInfo] {
        &self.trace
    }
}

impl fmt::Display for Trap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.code {
            Some(code) => f.write_str(code.message())?,
            None => f.write_str("wasm trap")?,
        }
        if !self.trace.is_empty() {
            write!(f, "\n{}", BacktraceDisplay(&self.trace))?;
        }
        Ok(())
    }
}

impl core::error::Error for Trap {}

/// The wasm frames a host error unwound through; attached as context to an
/// error a host function returned (the original error stays downcastable).
#[derive(Debug, Clone)]
pub struct WasmBacktrace {
    pub(crate) frames: Vec<FrameInfo>,
}

impl WasmBacktrace {
    /// The frames, innermost first.
    pub fn frames(&self) -> &[FrameInfo] {
        &self.frames
    }
}

impl fmt::Display for WasmBacktrace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        BacktraceDisplay(&self.frames).fmt(f)
    }
}

struct BacktraceDisplay<'a>(&'a [FrameInfo]);

impl fmt::Display for BacktraceDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A stack-overflow trap unwinds through ~100,000 frames; printing
        // them all buries the message, so keep both ends of deep traces.
        const HEAD: usize = 20;
        const TAIL: usize = 5;
        f.write_str("wasm backtrace:")?;
        let elided = self.0.len().saturating_sub(HEAD + TAIL);
        for (i, frame) in self.0.iter().enumerate() {
            if elided > 0 && i >= HEAD && i < HEAD + elided {
                if i == HEAD {
                    write!(f, "\n    ... {elided} frames elided ...")?;
                }
                continue;
            }
            write!(f, "\n    {i}: ")?;
            match frame.module_offset {
                Some(offset) => write!(f, "{offset:#x} - ")?,
                None => f.write_str("<unknown> - ")?,
            }
            f.write_str(frame.module_name.as_deref().unwrap_or("<unknown>"))?;
            f.write_str("!")?;
            match &frame.func_name {
                // Names from Rust (and C++-free) toolchains arrive mangled;
                // `{:#}` drops the hash suffix, as Rust's own backtraces do.
                #[cfg(feature = "demangle")]
                Some(name) => write!(f, "{:#}", rustc_demangle::demangle(name))?,
                #[cfg(not(feature = "demangle"))]
                Some(name) => f.write_str(name)?,
                None => write!(f, "<wasm function {}>", frame.func_index)?,
            }
        }
        Ok(())
    }
}

/// One wasm frame of a backtrace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameInfo {
    pub(crate) func_index: u32,
    pub(crate) func_name: Option<String>,
    pub(crate) module_name: Option<String>,
    pub(crate) module_offset: Option<usize>,
}

impl FrameInfo {
    /// The function's index in its module's function index space.
    pub fn func_index(&self) -> u32 {
        self.func_index
    }

    /// The function's name from the module's name section, if any.
    pub fn func_name(&self) -> Option<&str> {
        self.func_name.as_deref()
    }

    /// The module's name from its name section, if any.
    pub fn module_name(&self) -> Option<&str> {
        self.module_name.as_deref()
    }

    /// Byte offset in the module binary of the instruction executing in
    /// this frame, if known.
    pub fn module_offset(&self) -> Option<usize> {
        self.module_offset
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(i: u32) -> FrameInfo {
        FrameInfo {
            func_index: i,
            func_name: None,
            module_name: None,
            module_offset: Some(i as usize),
        }
    }

    #[test]
    fn deep_backtraces_keep_both_ends_and_say_how_many_were_elided() {
        let frames: Vec<FrameInfo> = (0..1000).map(frame).collect();
        let text = BacktraceDisplay(&frames).to_string();
        assert!(text.contains("    0: 0x0 - <unknown>!<wasm function 0>"));
        assert!(text.contains("    19: "));
        assert!(!text.contains("    20: "));
        assert!(text.contains("... 975 frames elided ..."));
        assert!(text.contains("    999: 0x3e7"));
        assert_eq!(text.lines().count(), 1 + 20 + 1 + 5);
    }

    #[test]
    fn rust_symbol_names_are_demangled() {
        let mut f = frame(0);
        f.func_name = Some("_ZN4trap18innermost_function17h0123456789abcdefE".into());
        let text = BacktraceDisplay(&[f]).to_string();
        assert!(text.contains("!trap::innermost_function"), "{text}");
        let mut plain = frame(1);
        plain.func_name = Some("quotient".into());
        assert!(
            BacktraceDisplay(&[plain])
                .to_string()
                .ends_with("!quotient")
        );
    }

    #[test]
    fn short_backtraces_are_printed_whole() {
        let frames: Vec<FrameInfo> = (0..25).map(frame).collect();
        let text = BacktraceDisplay(&frames).to_string();
        assert!(!text.contains("elided"));
        assert_eq!(text.lines().count(), 26);
    }
}
