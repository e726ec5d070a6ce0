//! Bounds-checked access to the guest's linear memory. Every pointer the
//! guest passes goes through here; a range outside the memory is `EFAULT`,
//! never a panic. Pointers need no alignment (wasm loads and stores do not
//! either), and every value is little-endian.

use crate::errno::Errno;
use crate::types::IOVEC_SIZE;

/// The guest's memory for the duration of one WASI call.
pub(crate) struct GuestMemory<'a> {
    data: &'a mut [u8],
}

/// One `iovec` / `ciovec`: a buffer in guest memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Iovec {
    pub ptr: u32,
    pub len: u32,
}

impl<'a> GuestMemory<'a> {
    /// Wraps the memory's bytes.
    pub fn new(data: &'a mut [u8]) -> Self {
        GuestMemory { data }
    }

    fn range(&self, ptr: u32, len: u64) -> Result<std::ops::Range<usize>, Errno> {
        let start = u64::from(ptr);
        let end = start.checked_add(len).ok_or(Errno::Fault)?;
        if end > self.data.len() as u64 {
            return Err(Errno::Fault);
        }
        Ok(start as usize..end as usize)
    }

    /// `len` bytes at `ptr`.
    pub fn bytes(&self, ptr: u32, len: u32) -> Result<&[u8], Errno> {
        let r = self.range(ptr, u64::from(len))?;
        Ok(&self.data[r])
    }

    /// `len` bytes at `ptr`, mutably.
    pub fn bytes_mut(&mut self, ptr: u32, len: u32) -> Result<&mut [u8], Errno> {
        let r = self.range(ptr, u64::from(len))?;
        Ok(&mut self.data[r])
    }

    /// Checks that `count` items of `size` bytes fit at `ptr`.
    pub fn check(&self, ptr: u32, count: u32, size: u32) -> Result<(), Errno> {
        self.range(ptr, u64::from(count) * u64::from(size))
            .map(|_| ())
    }

    /// Copies `src` to `ptr`.
    pub fn write(&mut self, ptr: u32, src: &[u8]) -> Result<(), Errno> {
        let len = u32::try_from(src.len()).map_err(|_| Errno::Fault)?;
        self.bytes_mut(ptr, len)?.copy_from_slice(src);
        Ok(())
    }

    /// A fixed-size array at `ptr`.
    pub fn array<const N: usize>(&self, ptr: u32) -> Result<[u8; N], Errno> {
        let b = self.bytes(ptr, N as u32)?;
        Ok(b.try_into().expect("length checked"))
    }

    /// The `u32` at `ptr`.
    pub fn read_u32(&self, ptr: u32) -> Result<u32, Errno> {
        Ok(u32::from_le_bytes(self.array(ptr)?))
    }

    /// Stores a `u8` at `ptr`.
    pub fn write_u8(&mut self, ptr: u32, v: u8) -> Result<(), Errno> {
        self.write(ptr, &[v])
    }

    /// Stores a `u16` at `ptr`.
    pub fn write_u16(&mut self, ptr: u32, v: u16) -> Result<(), Errno> {
        self.write(ptr, &v.to_le_bytes())
    }

    /// Stores a `u32` at `ptr`.
    pub fn write_u32(&mut self, ptr: u32, v: u32) -> Result<(), Errno> {
        self.write(ptr, &v.to_le_bytes())
    }

    /// Stores a `u64` at `ptr`.
    pub fn write_u64(&mut self, ptr: u32, v: u64) -> Result<(), Errno> {
        self.write(ptr, &v.to_le_bytes())
    }

    /// The UTF-8 string of `len` bytes at `ptr` (`EILSEQ` if it is not
    /// UTF-8, as WASI strings must be).
    pub fn str(&self, ptr: u32, len: u32) -> Result<&str, Errno> {
        std::str::from_utf8(self.bytes(ptr, len)?).map_err(|_| Errno::Ilseq)
    }

    /// The `count` iovecs at `ptr` (each itself bounds-checked).
    pub fn iovecs(&self, ptr: u32, count: u32) -> Result<Vec<Iovec>, Errno> {
        self.check(ptr, count, IOVEC_SIZE)?;
        let mut out = Vec::with_capacity(count as usize);
        for i in 0..count {
            let at = ptr + i * IOVEC_SIZE;
            let v = Iovec {
                ptr: self.read_u32(at)?,
                len: self.read_u32(at + 4)?,
            };
            self.range(v.ptr, u64::from(v.len))?;
            out.push(v);
        }
        Ok(out)
    }

    /// The bytes of every iovec, concatenated.
    pub fn gather(&self, iovs: &[Iovec]) -> Result<Vec<u8>, Errno> {
        let mut out = Vec::new();
        for v in iovs {
            out.extend_from_slice(self.bytes(v.ptr, v.len)?);
        }
        Ok(out)
    }

    /// Copies `src` across the iovecs in order, as far as it goes.
    pub fn scatter(&mut self, iovs: &[Iovec], mut src: &[u8]) -> Result<(), Errno> {
        for v in iovs {
            if src.is_empty() {
                break;
            }
            let n = src.len().min(v.len as usize);
            self.write(v.ptr, &src[..n])?;
            src = &src[n..];
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_bounds_is_efault() {
        let mut data = vec![0u8; 16];
        let mut m = GuestMemory::new(&mut data);
        assert!(m.bytes(0, 16).is_ok());
        assert_eq!(m.bytes(1, 16), Err(Errno::Fault));
        assert_eq!(m.bytes(u32::MAX, 2), Err(Errno::Fault));
        assert_eq!(m.write_u64(9, 1), Err(Errno::Fault));
        assert!(m.write_u64(8, 0x0102).is_ok());
        assert_eq!(m.read_u32(8), Ok(0x0102));
        assert_eq!(m.iovecs(0, 3), Err(Errno::Fault));
        assert_eq!(m.check(0, u32::MAX, 8), Err(Errno::Fault));
    }

    #[test]
    fn strings_and_iovecs() {
        let mut data = vec![0u8; 64];
        data[32..37].copy_from_slice(b"hello");
        data[40] = 0xff;
        data[0..4].copy_from_slice(&32u32.to_le_bytes());
        data[4..8].copy_from_slice(&2u32.to_le_bytes());
        data[8..12].copy_from_slice(&34u32.to_le_bytes());
        data[12..16].copy_from_slice(&3u32.to_le_bytes());
        let mut m = GuestMemory::new(&mut data);
        assert_eq!(m.str(32, 5), Ok("hello"));
        assert_eq!(m.str(40, 1), Err(Errno::Ilseq));
        let iovs = m.iovecs(0, 2).unwrap();
        assert_eq!(m.gather(&iovs).unwrap(), b"hello");
        m.scatter(&iovs, b"HEL").unwrap();
        assert_eq!(m.str(32, 5), Ok("HELlo"));
    }
}
