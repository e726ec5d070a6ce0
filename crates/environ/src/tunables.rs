//! [`Tunables`]: the code-generation choices a native backend makes that the
//! runtime must agree with (how linear memory is reserved, which checks the
//! code carries, whether code may rely on hardware faults). The runtime
//! picks them per engine and hands the same value to the compiler and to
//! its memory allocator.

/// How compiled code keeps linear-memory accesses in bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BoundsCheckStrategy {
    /// Every memory is mapped as a reservation of
    /// [`Tunables::memory_reservation`] bytes followed by
    /// [`Tunables::memory_guard_size`] inaccessible bytes. An access whose
    /// static `offset + size` cannot leave that region carries no check: a
    /// miss faults, and the runtime's signal handler turns the faulting pc
    /// into [`crate::TrapCode::MemoryOutOfBounds`] through the trap table.
    /// Accesses with larger offsets still get an explicit check.
    GuardPages,
    /// Every access compares its end address with the memory's current
    /// length and traps when it is past it. Needs no virtual-memory tricks,
    /// so it works on 32-bit hosts, without signals, and in small address
    /// spaces.
    Explicit,
}

/// Settings shared by the compiler and the runtime.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Tunables {
    /// Bounds-check strategy for linear memory.
    pub bounds_checks: BoundsCheckStrategy,
    /// Bytes of address space reserved for each linear memory (used by
    /// [`BoundsCheckStrategy::GuardPages`]).
    pub memory_reservation: u64,
    /// Bytes of inaccessible guard region after each reservation.
    pub memory_guard_size: u64,
    /// Whether code counts fuel (at function entry and loop headers) and
    /// calls [`crate::Builtin::OutOfFuel`] when it runs out.
    pub consume_fuel: bool,
    /// Whether code polls the interrupt flag (at function entry and loop
    /// headers) and traps with [`crate::TrapCode::Interrupt`] when it is
    /// set.
    pub interruptible: bool,
    /// Whether compiled code may rely on the runtime's signal handler: a
    /// trap may then be a faulting instruction (a trap instruction, an
    /// access to a guard page, a hardware division fault) whose pc the
    /// handler maps to a trap code through the trap table.
    ///
    /// When `false` (for hosts without signals: embedded, `no_std`),
    /// code never faults on purpose: every check is explicit, bounds
    /// checks are [`BoundsCheckStrategy::Explicit`] whatever
    /// `bounds_checks` says, every trap calls [`crate::Builtin::Trap`],
    /// the stack limit is checked by code in each function body rather
    /// than by the compiler's prologue trap, and the module's trap table
    /// is empty (`docs/signal-free.md`).
    pub signals_based_traps: bool,
    /// Whether relaxed SIMD operators take their deterministic semantics
    /// (the same results on every host and backend, as the interpreter
    /// gives) rather than the host's fastest instructions.
    pub relaxed_simd_deterministic: bool,
}

impl Tunables {
    /// Defaults for a host with `pointer_size`-byte pointers: guard pages
    /// (4 GiB reservation, 2 GiB guard) on 64-bit hosts, explicit checks on
    /// 32-bit ones, where the address space cannot hold the reservation.
    pub fn default_for_pointer_size(pointer_size: u8) -> Self {
        let bounds_checks = if pointer_size >= 8 {
            BoundsCheckStrategy::GuardPages
        } else {
            BoundsCheckStrategy::Explicit
        };
        Self {
            bounds_checks,
            memory_reservation: 1 << 32,
            memory_guard_size: 1 << 31,
            consume_fuel: false,
            interruptible: false,
            signals_based_traps: true,
            relaxed_simd_deterministic: false,
        }
    }

    /// The bounds-check strategy code must actually use: `bounds_checks`,
    /// except that code that may not rely on signals cannot rely on
    /// guard pages either.
    pub fn effective_bounds_checks(&self) -> BoundsCheckStrategy {
        if self.signals_based_traps {
            self.bounds_checks
        } else {
            BoundsCheckStrategy::Explicit
        }
    }

    /// Whether an access `offset + access_size` bytes past a 32-bit
    /// address needs no explicit check under these settings.
    /// Always `false` without signals-based traps: a miss would fault with
    /// nobody to turn the fault into a trap.
    pub fn access_is_covered_by_guard(&self, offset: u64, access_size: u64) -> bool {
        if self.effective_bounds_checks() != BoundsCheckStrategy::GuardPages {
            return false;
        }
        // The largest address is u32::MAX; the access's last byte is at
        // u32::MAX + offset + access_size - 1, which must stay inside the
        // reservation plus its guard.
        let limit = self
            .memory_reservation
            .saturating_add(self.memory_guard_size);
        let end = u64::from(u32::MAX)
            .checked_add(offset)
            .and_then(|e| e.checked_add(access_size));
        self.memory_reservation >= 1 << 32 && end.is_some_and(|end| end <= limit)
    }
}

impl Default for Tunables {
    fn default() -> Self {
        Self::default_for_pointer_size(core::mem::size_of::<usize>() as u8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guard_covers_small_offsets_only() {
        let t = Tunables::default_for_pointer_size(8);
        assert!(t.access_is_covered_by_guard(0, 8));
        assert!(t.access_is_covered_by_guard((1 << 31) - 16, 16));
        assert!(!t.access_is_covered_by_guard(1 << 31, 16));
        assert!(!t.access_is_covered_by_guard(u64::MAX, 1));
        let t32 = Tunables::default_for_pointer_size(4);
        assert!(!t32.access_is_covered_by_guard(0, 1));
    }

    #[test]
    fn signal_free_code_relies_on_no_guard() {
        let t = Tunables {
            signals_based_traps: false,
            ..Tunables::default_for_pointer_size(8)
        };
        // Even asked for guard pages, nothing is left to a fault.
        assert_eq!(t.bounds_checks, BoundsCheckStrategy::GuardPages);
        assert_eq!(t.effective_bounds_checks(), BoundsCheckStrategy::Explicit);
        assert!(!t.access_is_covered_by_guard(0, 1));
        assert!(Tunables::default().signals_based_traps);
    }
}
