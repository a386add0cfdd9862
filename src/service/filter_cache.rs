//! The seccomp programs already compiled, kept so that a unit's second start (and every
//! restart) reuses them: compiling `@system-service` costs about a millisecond of PID 1's
//! time. Keyed on exactly the inputs that shape the programs; bounded, the least recently used
//! entry going first, so PID 1 does not grow with the number of distinct units. Owns no
//! system resource; PID 1 is single-threaded, so the cache is per thread (tests that compile
//! from several threads each get their own).

use std::cell::RefCell;
use std::collections::VecDeque;

use super::seccomp::{Programs, SeccompError};
use crate::unit::model::ExecContext;
use crate::unit::restrict::AddressFamilies;
use crate::unit::syscall_filter::SyscallFilter;

/// How many distinct sets of programs are kept (a container runs a few dozen units at most;
/// a set is a few kilobytes).
const CAPACITY: usize = 64;

/// The inputs of [`super::seccomp::build`], borrowed from a unit or from a cache entry.
#[derive(PartialEq, Eq)]
struct Inputs<'a> {
    filter: &'a SyscallFilter,
    log: &'a SyscallFilter,
    families: &'a AddressFamilies,
    error_number: Option<u16>,
    namespaces: Option<u64>,
    persona: Option<u32>,
    flags: [bool; 9],
}

impl<'a> Inputs<'a> {
    fn of(exec: &'a ExecContext, persona: Option<u32>) -> Self {
        Inputs {
            filter: &exec.syscall_filter,
            log: &exec.syscall_log,
            families: &exec.address_families,
            error_number: exec.syscall_error_number,
            namespaces: exec.restrict_namespaces,
            persona,
            flags: [
                exec.syscall_native_only,
                exec.restrict_realtime,
                exec.memory_deny_write_execute,
                exec.lock_personality,
                exec.restrict_suid_sgid,
                exec.protect_kernel_modules,
                exec.protect_kernel_logs,
                exec.protect_clock,
                exec.protect_hostname,
            ],
        }
    }
}

/// A cache entry: the owned inputs (an ExecContext holding only the fields that matter) and
/// what they compiled to.
struct Entry {
    exec: ExecContext,
    persona: Option<u32>,
    programs: Programs,
}

impl Entry {
    fn new(exec: &ExecContext, persona: Option<u32>, programs: Programs) -> Self {
        let exec = ExecContext {
            syscall_filter: exec.syscall_filter.clone(),
            syscall_log: exec.syscall_log.clone(),
            address_families: exec.address_families.clone(),
            syscall_error_number: exec.syscall_error_number,
            restrict_namespaces: exec.restrict_namespaces,
            syscall_native_only: exec.syscall_native_only,
            restrict_realtime: exec.restrict_realtime,
            memory_deny_write_execute: exec.memory_deny_write_execute,
            lock_personality: exec.lock_personality,
            restrict_suid_sgid: exec.restrict_suid_sgid,
            protect_kernel_modules: exec.protect_kernel_modules,
            protect_kernel_logs: exec.protect_kernel_logs,
            protect_clock: exec.protect_clock,
            protect_hostname: exec.protect_hostname,
            ..ExecContext::default()
        };
        Entry {
            exec,
            persona,
            programs,
        }
    }
}

thread_local! {
    /// Most recently used first.
    static CACHE: RefCell<VecDeque<Entry>> = const { RefCell::new(VecDeque::new()) };
}

/// The programs for `exec` with LockPersonality='s `persona`: the cached ones, or `build`'s
/// (kept only when built).
pub fn get_or_build(
    exec: &ExecContext,
    persona: Option<u32>,
    build: impl FnOnce() -> Result<Programs, SeccompError>,
) -> Result<Programs, SeccompError> {
    let wanted = Inputs::of(exec, persona);
    let hit = CACHE.with_borrow_mut(|cache| {
        let at = cache
            .iter()
            .position(|e| Inputs::of(&e.exec, e.persona) == wanted)?;
        let entry = cache.remove(at)?;
        let programs = entry.programs.clone();
        cache.push_front(entry);
        Some(programs)
    });
    if let Some(programs) = hit {
        return Ok(programs);
    }
    let programs = build()?;
    CACHE.with_borrow_mut(|cache| {
        cache.truncate(CAPACITY - 1);
        cache.push_front(Entry::new(exec, persona, programs.clone()));
    });
    Ok(programs)
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::service::seccomp::compile;

    fn service() -> ExecContext {
        let mut e = ExecContext::default();
        e.syscall_filter.add_line("@system-service");
        e.syscall_filter.add_line("~@privileged @resources");
        e.syscall_error_number = Some(1);
        e.restrict_realtime = true;
        e
    }

    #[test]
    fn a_second_compile_is_served_from_the_cache() {
        let e = service();
        let first = compile(&e, true).unwrap_or_default();
        let second = compile(&e, true).unwrap_or_default();
        assert!(!first.is_empty());
        assert!(std::sync::Arc::ptr_eq(&first, &second));
        // Any input that shapes the programs is part of the key.
        let mut other = service();
        other.protect_clock = true;
        let third = compile(&other, true).unwrap_or_default();
        assert!(!std::sync::Arc::ptr_eq(&first, &third));
        // ProtectClock= joins the one program: its calls are refused by the list already
        // (@clock is in @privileged), with the same errno, so nothing grows.
        let size = |p: &super::super::seccomp::Programs| p.iter().map(Vec::len).sum::<usize>();
        assert_eq!((third.len(), first.len()), (1, 1));
        assert!(size(&third) >= size(&first));
        other.syscall_error_number = Some(13);
        assert!(!std::sync::Arc::ptr_eq(
            &third,
            &compile(&other, true).unwrap_or_default()
        ));
    }

    #[test]
    fn the_cache_is_bounded() {
        for n in 0..CAPACITY + 10 {
            let mut e = service();
            e.syscall_error_number = u16::try_from(n + 1).ok();
            let _ = compile(&e, true);
        }
        assert_eq!(CACHE.with_borrow(VecDeque::len), CAPACITY);
    }

    /// The figures for the report (`cargo test --lib filter_cache -- --nocapture`): the cost
    /// of a unit's first start against its second, for an allow list alone and for the whole
    /// sandbox of Debian's redis-server unit. Prints only; no timing is asserted.
    #[test]
    fn print_what_the_cache_saves() {
        let mut redis = service();
        redis.syscall_native_only = true;
        redis.memory_deny_write_execute = true;
        redis.address_families.add_line("AF_INET AF_INET6 AF_UNIX");
        redis.restrict_namespaces = Some(0);
        redis.lock_personality = true;
        redis.restrict_suid_sgid = true;
        redis.protect_clock = true;
        redis.protect_kernel_modules = true;
        redis.protect_kernel_logs = true;
        redis.protect_hostname = true;
        for (what, e) in [
            ("@system-service", service()),
            ("redis-server's sandbox", redis),
        ] {
            let persona = e.lock_personality.then_some(0);
            let t = Instant::now();
            let built = super::super::seccomp::build(&e, persona).unwrap_or_default();
            let cold = t.elapsed();
            let _ = compile(&e, true);
            let t = Instant::now();
            let _ = compile(&e, true);
            let warm = t.elapsed();
            eprintln!(
                "seccomp programs for {what} ({} programs): compiled {cold:?}, from the cache {warm:?}",
                built.len()
            );
        }
    }
}
