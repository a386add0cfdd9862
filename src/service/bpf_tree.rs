//! A seccomp program for a plain list of system calls (no argument conditions): SystemCallFilter=
//! allow and deny lists. seccompiler writes one test per call in a row; the kernel then spends
//! time linear in the list on every call it does not list, and, when the filter is installed,
//! once per system-call number to build its action cache (about 1 ms per spawn for
//! `@system-service`, BENCHMARKS.md). Here consecutive numbers with one action are one run,
//! and the runs are found by a binary search: a few hundred calls make a few dozen runs, a
//! program of a few hundred instructions, and a call costs about log2(runs) tests. The
//! program's behaviour is the one seccompiler's had, with the same architecture check first
//! and bosun's x32 and ENOSYS checks ([`number_checks`], which seccompiler's programs get
//! too) after it.

use crate::vocab::syscall::Arch;

const BPF_LD_W_ABS: u16 = 0x20;
const BPF_JMP_JA: u16 = 0x05;
const BPF_JMP_JEQ_K: u16 = 0x05 | 0x10;
const BPF_JMP_JGT_K: u16 = 0x05 | 0x20;
const BPF_JMP_JGE_K: u16 = 0x05 | 0x30;
const BPF_RET_K: u16 = 0x06;
const X32_SYSCALL_BIT: u32 = 0x4000_0000;

fn ins(code: u16, jt: u8, jf: u8, k: u32) -> libc::sock_filter {
    libc::sock_filter { code, jt, jf, k }
}

/// The audit architecture seccomp_data.arch holds for `arch`.
fn audit_arch(arch: Arch) -> u32 {
    match arch {
        Arch::X86_64 => 0xC000_003E,
        Arch::Aarch64 => 0xC000_00B7,
    }
}

/// A program answering `actions` (system-call number and its SECCOMP_RET_* value, any order)
/// and `miss` for every other number of `arch`; a call through another architecture's ABI
/// (x32 on x86_64 included) kills the process; with `above`, numbers above it answer ENOSYS.
pub fn program(
    arch: Arch,
    actions: &[(u32, u32)],
    miss: u32,
    above: Option<u32>,
) -> Vec<libc::sock_filter> {
    let mut out = vec![
        // seccomp_data.arch is at offset 4.
        ins(BPF_LD_W_ABS, 0, 0, 4),
        ins(BPF_JMP_JEQ_K, 1, 0, audit_arch(arch)),
        ins(BPF_RET_K, 0, 0, libc::SECCOMP_RET_KILL_PROCESS),
    ];
    out.extend(number_checks(arch, above, &[]));
    tree(&segments(actions, miss), &mut out);
    out
}

/// What follows a program's architecture check: load the call number (seccomp_data.nr, at
/// offset 0); on x86_64 kill x32 calls (bit 30 set, which the architecture check cannot tell
/// apart); answer ENOSYS above `above` and for the numbers `enosys`.
pub fn number_checks(arch: Arch, above: Option<u32>, enosys: &[u32]) -> Vec<libc::sock_filter> {
    let nosys = libc::SECCOMP_RET_ERRNO | libc::ENOSYS.unsigned_abs();
    // A test of the number, and the return that a match reaches.
    let check = |jump, nr, ret| [ins(jump, 0, 1, nr), ins(BPF_RET_K, 0, 0, ret)];
    let mut out = vec![ins(BPF_LD_W_ABS, 0, 0, 0)];
    if arch == Arch::X86_64 {
        out.extend(check(
            BPF_JMP_JGE_K,
            X32_SYSCALL_BIT,
            libc::SECCOMP_RET_KILL_PROCESS,
        ));
    }
    if let Some(max) = above {
        out.extend(check(BPF_JMP_JGT_K, max, nosys));
    }
    for &nr in enosys {
        out.extend(check(BPF_JMP_JEQ_K, nr, nosys));
    }
    out
}

/// The numbers as runs: (first number, action) for each run of consecutive numbers with one
/// action, the gaps and everything above answering `miss`. Starts ascending, from 0.
fn segments(actions: &[(u32, u32)], miss: u32) -> Vec<(u32, u32)> {
    let mut sorted = actions.to_vec();
    sorted.sort_unstable();
    sorted.dedup_by_key(|(nr, _)| *nr);
    let mut out: Vec<(u32, u32)> = Vec::new();
    let mut push = |start: u32, action: u32| {
        if out.last().is_none_or(|&(_, last)| last != action) {
            out.push((start, action));
        }
    };
    let mut next = 0;
    for (nr, action) in sorted {
        if nr > next {
            push(next, miss);
        }
        push(nr, action);
        next = nr.saturating_add(1);
    }
    push(next, miss);
    out
}

/// The search over `runs`, each subtree ending in its own return (so every jump is forward
/// and local: a long `ja` crosses a left subtree of any size).
fn tree(runs: &[(u32, u32)], out: &mut Vec<libc::sock_filter>) {
    let [(_, action)] = runs else {
        let (left, right) = runs.split_at(runs.len() / 2);
        // nr >= right's first: fall to the `ja` over the left subtree; else skip it.
        out.push(ins(BPF_JMP_JGE_K, 0, 1, right[0].0));
        let ja = out.len();
        out.push(ins(BPF_JMP_JA, 0, 0, 0));
        tree(left, out);
        out[ja].k = u32::try_from(out.len() - ja - 1).unwrap_or(u32::MAX);
        tree(right, out);
        return;
    };
    out.push(ins(BPF_RET_K, 0, 0, *action));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `program` as the kernel would for `nr` on `arch` (a tiny cBPF interpreter for the
    /// instructions this module emits).
    fn run(program: &[libc::sock_filter], arch: u32, nr: u32) -> u32 {
        let (mut pc, mut acc) = (0usize, 0u32);
        loop {
            let i = program[pc];
            pc += 1;
            match i.code {
                BPF_LD_W_ABS => acc = if i.k == 4 { arch } else { nr },
                BPF_JMP_JA => pc += i.k as usize,
                BPF_JMP_JEQ_K | BPF_JMP_JGT_K | BPF_JMP_JGE_K => {
                    let taken = match i.code {
                        BPF_JMP_JEQ_K => acc == i.k,
                        BPF_JMP_JGT_K => acc > i.k,
                        _ => acc >= i.k,
                    };
                    pc += usize::from(if taken { i.jt } else { i.jf });
                }
                BPF_RET_K => return i.k,
                other => panic!("unexpected instruction {other:#x}"),
            }
        }
    }

    #[test]
    fn every_number_gets_its_action_and_the_rest_the_miss() {
        let allow = libc::SECCOMP_RET_ALLOW;
        let nosys = libc::SECCOMP_RET_ERRNO | 38;
        let kill = libc::SECCOMP_RET_KILL_PROCESS;
        let listed: Vec<(u32, u32)> = (0..400)
            .filter(|n| n % 3 != 1)
            .map(|n| (n, if n % 7 == 0 { nosys } else { allow }))
            .collect();
        let p = program(Arch::X86_64, &listed, kill, Some(450));
        let arch = audit_arch(Arch::X86_64);
        for nr in 0..=460 {
            let want = match listed.iter().find(|(n, _)| *n == nr) {
                Some((_, action)) => *action,
                None if nr > 450 => nosys,
                None => kill,
            };
            assert_eq!(run(&p, arch, nr), want, "nr {nr}");
        }
        assert_eq!(run(&p, arch, X32_SYSCALL_BIT | 39), kill);
        assert_eq!(run(&p, 0x4000_0003, 39), kill, "another architecture");
        assert!(p.len() < 4 * listed.len() && p.len() < 4096);
        // Runs of consecutive numbers make a short program.
        let run_of: Vec<(u32, u32)> = (0..300).map(|n| (n, allow)).collect();
        assert!(program(Arch::X86_64, &run_of, kill, None).len() < 16);
        let empty = program(Arch::Aarch64, &[], allow, None);
        assert_eq!(run(&empty, audit_arch(Arch::Aarch64), 5), allow);
    }
}
