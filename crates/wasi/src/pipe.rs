//! In-memory streams for tests and embedders that capture a guest's output.

use std::io::{self, Write};
use std::sync::{Arc, Mutex};

/// A growable byte buffer shared between the guest's stream and the host.
///
/// Clones share the same buffer: give one clone to
/// [`WasiCtxBuilder::stdout`](crate::WasiCtxBuilder::stdout) and read the
/// guest's output from another with [`contents`](MemoryOutput::contents).
#[derive(Clone, Debug, Default)]
pub struct MemoryOutput {
    buf: Arc<Mutex<Vec<u8>>>,
}

impl MemoryOutput {
    /// An empty buffer.
    pub fn new() -> Self {
        Self::default()
    }

    /// A copy of everything written so far.
    pub fn contents(&self) -> Vec<u8> {
        self.lock().clone()
    }

    /// Everything written so far, as (lossy) UTF-8 text.
    pub fn contents_string(&self) -> String {
        String::from_utf8_lossy(&self.lock()).into_owned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<u8>> {
        // A panic while holding the lock leaves plain bytes behind, which
        // are still meaningful, so a poisoned lock is used as it is.
        self.buf.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Write for MemoryOutput {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.lock().extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_the_buffer() {
        let out = MemoryOutput::new();
        let mut w = out.clone();
        w.write_all(b"abc").unwrap();
        assert_eq!(out.contents(), b"abc");
        assert_eq!(out.contents_string(), "abc");
    }
}
