//! A seccomp program for a plain list of system calls (no argument conditions): SystemCallFilter=
//! allow and deny lists. seccompiler writes one test per call in a row; the kernel then spends
//! time linear in the list on every call it does not list, and, when the filter is installed,
//! once per system-call number to build its action cache (about 1 ms per spawn for
//! `@system-service`, BENCHMARKS.md). Here the numbers are tested as a binary search, so a
//! call costs about log2(n) tests. The program's behaviour is the one seccompiler's had, with
//! the same architecture check first and bosun's x32 and ENOSYS checks after it.

use crate::vocab::syscall::Arch;

const BPF_LD_W_ABS: u16 = 0x20;
const BPF_JMP_JA: u16 = 0x05;
const BPF_JMP_JEQ_K: u16 = 0x05 | 0x10;
const BPF_JMP_JGT_K: u16 = 0x05 | 0x20;
const BPF_JMP_JGE_K: u16 = 0x05 | 0x30;
const BPF_RET_K: u16 = 0x06;
const X32_SYSCALL_BIT: u32 = 0x4000_0000;
/// How many numbers a leaf tests one by one.
const LEAF: usize = 4;

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
    let kill = libc::SECCOMP_RET_KILL_PROCESS;
    let mut out = vec![
        // seccomp_data.arch is at offset 4, .nr at 0.
        ins(BPF_LD_W_ABS, 0, 0, 4),
        ins(BPF_JMP_JEQ_K, 1, 0, audit_arch(arch)),
        ins(BPF_RET_K, 0, 0, kill),
        ins(BPF_LD_W_ABS, 0, 0, 0),
    ];
    if arch == Arch::X86_64 {
        out.push(ins(BPF_JMP_JGE_K, 0, 1, X32_SYSCALL_BIT));
        out.push(ins(BPF_RET_K, 0, 0, kill));
    }
    if let Some(max) = above {
        out.push(ins(BPF_JMP_JGT_K, 0, 1, max));
        out.push(ins(BPF_RET_K, 0, 0, libc::SECCOMP_RET_ERRNO | libc::ENOSYS.unsigned_abs()));
    }
    let mut sorted = actions.to_vec();
    sorted.sort_unstable();
    sorted.dedup_by_key(|(nr, _)| *nr);
    tree(&sorted, miss, &mut out);
    out
}

/// The search over `sorted`, each subtree ending in its own returns (so every jump is
/// forward and local: a long `ja` crosses a left subtree of any size).
fn tree(sorted: &[(u32, u32)], miss: u32, out: &mut Vec<libc::sock_filter>) {
    if sorted.len() <= LEAF {
        for &(nr, action) in sorted {
            out.push(ins(BPF_JMP_JEQ_K, 0, 1, nr));
            out.push(ins(BPF_RET_K, 0, 0, action));
        }
        out.push(ins(BPF_RET_K, 0, 0, miss));
        return;
    }
    let (left, right) = sorted.split_at(sorted.len() / 2);
    // nr >= right's first: fall to the `ja` over the left subtree; else skip it.
    out.push(ins(BPF_JMP_JGE_K, 0, 1, right[0].0));
    let ja = out.len();
    out.push(ins(BPF_JMP_JA, 0, 0, 0));
    tree(left, miss, out);
    out[ja].k = u32::try_from(out.len() - ja - 1).unwrap_or(u32::MAX);
    tree(right, miss, out);
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
        // A search: far fewer instructions run than the list is long.
        assert!(p.len() < 4 * listed.len() && p.len() < 4096);
        let empty = program(Arch::Aarch64, &[], allow, None);
        assert_eq!(run(&empty, audit_arch(Arch::Aarch64), 5), allow);
    }
}
