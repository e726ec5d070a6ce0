//! The program's whole operating-system interface: `_start`, `write` and
//! `exit_group` as raw Linux system calls, per architecture.

use core::arch::{asm, global_asm};

/// Writes `bytes` to file descriptor `fd`, retrying short writes.
pub fn write(fd: usize, mut bytes: &[u8]) {
    while !bytes.is_empty() {
        // SAFETY: `write` reads `bytes.len()` bytes at a valid pointer.
        let n = unsafe { syscall3(WRITE, fd, bytes.as_ptr() as usize, bytes.len()) };
        if n <= 0 {
            return;
        }
        bytes = &bytes[n as usize..];
    }
}

/// Ends the process with `status`.
pub fn exit(status: i32) -> ! {
    loop {
        // SAFETY: `exit_group` takes a plain integer and does not return.
        unsafe { syscall3(EXIT_GROUP, status as usize, 0, 0) };
    }
}

#[cfg(target_arch = "x86_64")]
const WRITE: usize = 1;
#[cfg(target_arch = "x86_64")]
const EXIT_GROUP: usize = 231;

// The kernel enters with the stack 16-byte aligned and no return address;
// a Rust function expects to be called, so `_start` calls it.
#[cfg(target_arch = "x86_64")]
global_asm!(
    ".globl _start",
    "_start:",
    "xor ebp, ebp",
    "and rsp, -16",
    "call kiln_no_std_main",
    "ud2",
);

#[cfg(target_arch = "x86_64")]
unsafe fn syscall3(n: usize, a: usize, b: usize, c: usize) -> isize {
    let ret: isize;
    // SAFETY: the caller passes a system call and arguments that are valid
    // for it; `syscall` clobbers rcx and r11.
    unsafe {
        asm!("syscall", inlateout("rax") n as isize => ret, in("rdi") a, in("rsi") b,
             in("rdx") c, lateout("rcx") _, lateout("r11") _, options(nostack));
    }
    ret
}

#[cfg(target_arch = "riscv32")]
const WRITE: usize = 64;
#[cfg(target_arch = "riscv32")]
const EXIT_GROUP: usize = 94;

#[cfg(target_arch = "riscv32")]
global_asm!(
    ".globl _start",
    "_start:",
    "andi sp, sp, -16",
    "call kiln_no_std_main",
    "unimp",
);

#[cfg(target_arch = "riscv32")]
unsafe fn syscall3(n: usize, a: usize, b: usize, c: usize) -> isize {
    let ret: isize;
    // SAFETY: as on x86_64.
    unsafe {
        asm!("ecall", in("a7") n, inlateout("a0") a as isize => ret, in("a1") b, in("a2") c,
             options(nostack));
    }
    ret
}

#[cfg(target_arch = "arm")]
const WRITE: usize = 4;
#[cfg(target_arch = "arm")]
const EXIT_GROUP: usize = 248;

#[cfg(target_arch = "arm")]
global_asm!(
    ".globl _start",
    ".thumb_func",
    "_start:",
    "mov r0, sp",
    "bic r0, r0, #7",
    "mov sp, r0",
    "bl kiln_no_std_main",
    "udf #0",
);

#[cfg(target_arch = "arm")]
unsafe fn syscall3(n: usize, a: usize, b: usize, c: usize) -> isize {
    let ret: isize;
    // SAFETY: as on x86_64. EABI takes the number in r7, which is the
    // Thumb frame pointer and cannot be named as an operand, so it is
    // saved around the call.
    unsafe {
        asm!("push {{r7}}", "mov r7, r3", "svc 0", "pop {{r7}}",
             in("r3") n, inlateout("r0") a as isize => ret, in("r1") b, in("r2") c);
    }
    ret
}
