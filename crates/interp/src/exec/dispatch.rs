//! How handlers are made and chained: the `handlers!` macro turns one list
//! of op bodies (`handlers.rs`) into either
//! - **threaded** code (`cfg(kiln_threaded)`, set by `build.rs` for
//!   optimised builds on x86_64 and aarch64): one function per op,
//!   each ending with a call to the next op's handler through the handler
//!   table. Every handler has the same signature and passes the hot state
//!   (`ip`, `fp`, memory base and length, the context, the accumulator) in
//!   argument registers, so LLVM compiles that final call into a jump, and the
//!   handlers run as one chain of indirect jumps with their own branch
//!   prediction per op; or
//! - a **portable loop** everywhere else (debug builds, wasm32, 32-bit
//!   targets, s390x, riscv64, Windows): the same bodies as the arms of one
//!   `match` in a loop.
//!
//! An entry `Name(x) / NameAcc(x) => body` also makes the op's
//! accumulator form from the same body, with `ACC` true: the operand the
//! op list names is then read from `acc` (`acc_or!`), the value the op
//! before wrote (`docs/bytecode.md`, "The accumulator").
//!
//! A body reads its operands from the op's fields, runs with `ip` already
//! past its op, and either falls off its end (the next op runs), assigns
//! `ip` (a branch), or leaves with `return` (an exit or trap). Everything a
//! body may do to the state goes through the macros of `state_macros!`,
//! which exist in each handler's own scope so that they can name its
//! arguments (macro hygiene keeps a module-level macro from seeing them).
//!
//! A threaded handler must not let the address of any of its locals escape
//! (into a call that is not inlined), or LLVM keeps its frame alive across
//! the final call and every op grows the host stack. Slow paths that need
//! buffers therefore live in out-of-line functions that take the context
//! and return a small status. `tests/tail_dispatch.rs` runs long programs
//! on a thread with a tiny stack to prove the chain stays flat.

/// Expands a list of `Name pattern => { body }` entries into the handler
/// functions and table (threaded) or the dispatch loop (portable). `$d` is
/// a `$` token, passed in so the macros this defines can have metavariables.
macro_rules! handlers {
    (
        $d:tt [$ip:ident, $fp:ident, $cx:ident, $mb:ident, $ml:ident, $acc:ident]
        $(
            $(#[$cfg:meta])*
            $name:ident $(( $($tuple:tt)* ))? $({ $($named:tt)* })?
            $(/ $acc_name:ident $(( $($acc_tuple:tt)* ))? $({ $($acc_named:tt)* })? )? => $body:block
        )*
    ) => {
        /// One function per op; see the module docs of `dispatch`.
        #[cfg(kiln_threaded)]
        #[allow(
            non_snake_case,
            unused_mut,
            unused_variables,
            unused_assignments,
            unreachable_code
        )]
        mod handler {
            use super::*;
            $(
                $(#[$cfg])*
                pub(super) unsafe fn $name(
                    mut $ip: *const Op,
                    mut $fp: *mut u64,
                    $cx: &mut Cx<'_>,
                    mut $mb: *mut u8,
                    mut $ml: usize,
                    mut $acc: u64,
                ) -> Exit {
                    #[allow(dead_code)]
                    const ACC: bool = false;
                    state_macros!($d [$ip, $fp, $cx, $mb, $ml, $acc]);
                    #[allow(unused_macros)]
                    macro_rules! next {
                        () => {
                            // SAFETY: `ip` points at an op of the current
                            // function (the translator's invariants).
                            return unsafe { dispatch($ip, $fp, $cx, $mb, $ml, $acc) }
                        };
                    }
                    // SAFETY: `dispatch` only calls this handler for an op
                    // with this tag.
                    let Op::$name $(( $($tuple)* ))? $({ $($named)* })? = (unsafe { *$ip }) else {
                        unsafe { core::hint::unreachable_unchecked() }
                    };
                    // SAFETY: code ends in a control transfer, so the op
                    // after a non-final op exists.
                    $ip = unsafe { $ip.add(1) };
                    $body
                    next!()
                }

                // The accumulator form: the same body, with the operand
                // the op list names read from `acc` (`ACC`).
                $(
                    pub(super) unsafe fn $acc_name(
                        mut $ip: *const Op,
                        mut $fp: *mut u64,
                        $cx: &mut Cx<'_>,
                        mut $mb: *mut u8,
                        mut $ml: usize,
                        mut $acc: u64,
                    ) -> Exit {
                        #[allow(dead_code)]
                        const ACC: bool = true;
                        state_macros!($d [$ip, $fp, $cx, $mb, $ml, $acc]);
                        #[allow(unused_macros)]
                        macro_rules! next {
                            () => {
                                // SAFETY: as in the plain form.
                                return unsafe { dispatch($ip, $fp, $cx, $mb, $ml, $acc) }
                            };
                        }
                        // SAFETY: as in the plain form.
                        let Op::$acc_name $(( $($acc_tuple)* ))? $({ $($acc_named)* })? = (unsafe { *$ip }) else {
                            unsafe { core::hint::unreachable_unchecked() }
                        };
                        // SAFETY: as in the plain form.
                        $ip = unsafe { $ip.add(1) };
                        $body
                        next!()
                    }
                )?
            )*
        }

        /// The handler of each op, indexed by its tag.
        #[cfg(kiln_threaded)]
        static HANDLERS: [Handler; OpCode::Count as usize] = {
            let mut table: [Handler; OpCode::Count as usize] =
                [handler::Unreachable; OpCode::Count as usize];
            $(
                $(#[$cfg])*
                {
                    table[OpCode::$name as usize] = handler::$name;
                    $( table[OpCode::$acc_name as usize] = handler::$acc_name; )?
                }
            )*
            table
        };

        /// Fails to compile if an op has no handler (the table above would
        /// silently keep its placeholder).
        #[cfg(kiln_threaded)]
        #[allow(dead_code)]
        fn every_op_has_a_handler(op: &Op) {
            match op {
                $(
                    $(#[$cfg])* Op::$name { .. } => {}
                    $( Op::$acc_name { .. } => {} )?
                )*
            }
        }

        /// Runs the op at `ip` and its successors until the activation
        /// exits.
        ///
        /// # Safety
        /// As for [`run`](super::run::run): `ip` is in the code of `cx.func`,
        /// whose frame starts at `fp`.
        #[cfg(kiln_threaded)]
        #[inline(always)]
        pub(super) unsafe fn dispatch(
            ip: *const Op,
            fp: *mut u64,
            cx: &mut Cx<'_>,
            mb: *mut u8,
            ml: usize,
            acc: u64,
        ) -> Exit {
            // SAFETY: `ip` points at a valid op (caller), and its tag is
            // below `OpCode::Count`, the table's length.
            unsafe {
                let handler = *HANDLERS.get_unchecked((*ip).code() as usize);
                handler(ip, fp, cx, mb, ml, acc)
            }
        }

        /// The portable loop: the same bodies as the arms of one `match`.
        ///
        /// # Safety
        /// As for the threaded `dispatch`.
        #[cfg(not(kiln_threaded))]
        #[allow(unused_mut, unreachable_code, unused_assignments)]
        pub(super) unsafe fn dispatch(
            mut $ip: *const Op,
            mut $fp: *mut u64,
            $cx: &mut Cx<'_>,
            mut $mb: *mut u8,
            mut $ml: usize,
            mut $acc: u64,
        ) -> Exit {
            state_macros!($d [$ip, $fp, $cx, $mb, $ml, $acc]);
            #[allow(unused_macros)]
            macro_rules! next {
                () => {
                    continue
                };
            }
            loop {
                // SAFETY: `ip` stays inside the function's code (the
                // translator's invariants); see each arm for the rest.
                // Matched through a reference, as the old loop did: copying
                // the whole op first cost instructions there.
                let op: &Op = unsafe { &*$ip };
                #[cfg(feature = "op-profile")]
                super::profile::count(op.code());
                $ip = unsafe { $ip.add(1) };
                match *op {
                    $(
                        $(#[$cfg])*
                        Op::$name $(( $($tuple)* ))? $({ $($named)* })? => {
                            #[allow(dead_code)]
                            const ACC: bool = false;
                            $body
                        }
                        $(
                            Op::$acc_name $(( $($acc_tuple)* ))? $({ $($acc_named)* })? => {
                                #[allow(dead_code)]
                                const ACC: bool = true;
                                $body
                            }
                        )?
                    )*
                }
            }
        }
    };
}

/// A threaded handler: the hot state in argument registers.
#[cfg(kiln_threaded)]
pub(super) type Handler = unsafe fn(*const Op, *mut u64, &mut Cx<'_>, *mut u8, usize, u64) -> Exit;

#[cfg(kiln_threaded)]
use super::run::{Cx, Exit};
#[cfg(kiln_threaded)]
use crate::bytecode::Op;
