//! bosun's seccomp compiler: classic BPF programs that dispatch on the system-call number by a
//! binary search, for SystemCallFilter='s plain lists ([`program`]) and for the restrictions
//! that test arguments ([`conditional`]: RestrictAddressFamilies=, RestrictNamespaces=,
//! MemoryDenyWriteExecute=, ...). A program written as one test per call in a row (as
//! seccompiler writes them) costs the kernel time linear in its length twice: on every call
//! it does not answer from its action cache, and when it is installed, once per system-call
//! number of each architecture, to build that cache (about 1 ms per spawn for
//! `@system-service`, 0.2 ms for the EPERM restrictions of Debian's redis unit; BENCHMARKS.md).
//! Here consecutive numbers with one answer are one run, the runs are found by a binary
//! search, and a call costs about log2(runs) tests; a call with argument tests gets a leaf of
//! its own, which only that call reaches. Every program starts with the architecture check
//! (another ABI kills the process, so every filter also acts as
//! SystemCallArchitectures=native) and bosun's x32 and ENOSYS checks (`number_checks`).

use crate::vocab::syscall::Arch;

const BPF_LD_W_ABS: u16 = 0x20;
const BPF_JMP_JA: u16 = 0x05;
const BPF_JMP_JEQ_K: u16 = 0x05 | 0x10;
const BPF_JMP_JGT_K: u16 = 0x05 | 0x20;
const BPF_JMP_JGE_K: u16 = 0x05 | 0x30;
const BPF_JMP_JSET_K: u16 = 0x05 | 0x40;
const BPF_RET_K: u16 = 0x06;
const BPF_ALU_AND_K: u16 = 0x04 | 0x50;
/// seccomp_data.args[0]; each argument is 8 bytes, its low half first (x86_64 and aarch64
/// are little-endian).
const ARGS: u32 = 16;
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
    let mut out = prologue(arch, above);
    let mut ret = |action: &u32, out: &mut Vec<libc::sock_filter>| {
        out.push(ins(BPF_RET_K, 0, 0, *action));
        Ok(())
    };
    // Only leaves of one instruction: every jump is local.
    let _ = tree(&segments(actions, &miss), &mut out, &mut ret);
    out
}

/// The architecture check and [`number_checks`].
fn prologue(arch: Arch, above: Option<u32>) -> Vec<libc::sock_filter> {
    let mut out = vec![
        // seccomp_data.arch is at offset 4.
        ins(BPF_LD_W_ABS, 0, 0, 4),
        ins(BPF_JMP_JEQ_K, 1, 0, audit_arch(arch)),
        ins(BPF_RET_K, 0, 0, libc::SECCOMP_RET_KILL_PROCESS),
    ];
    out.extend(number_checks(arch, above));
    out
}

/// What follows a program's architecture check: load the call number (seccomp_data.nr, at
/// offset 0); on x86_64 kill x32 calls (bit 30 set, which the architecture check cannot tell
/// apart); answer ENOSYS above `above`.
fn number_checks(arch: Arch, above: Option<u32>) -> Vec<libc::sock_filter> {
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
    out
}

/// The numbers as runs: (first number, leaf) for each run of consecutive numbers with one
/// leaf, the gaps and everything above answering `miss`. Starts ascending, from 0.
fn segments<L: Clone + PartialEq>(actions: &[(u32, L)], miss: &L) -> Vec<(u32, L)> {
    let mut sorted = actions.to_vec();
    sorted.sort_by_key(|(nr, _)| *nr);
    sorted.dedup_by_key(|(nr, _)| *nr);
    let mut out: Vec<(u32, L)> = Vec::new();
    let mut push = |start: u32, leaf: &L| {
        if out.last().is_none_or(|(_, last)| last != leaf) {
            out.push((start, leaf.clone()));
        }
    };
    let mut next = 0;
    for (nr, leaf) in &sorted {
        if *nr > next {
            push(next, miss);
        }
        push(*nr, leaf);
        next = nr.saturating_add(1);
    }
    push(next, miss);
    out
}

/// The search over `runs`, each subtree ending in its own leaf (so every jump is forward
/// and local: one test per node, and a long `ja` where a left subtree is longer than a test
/// can cross).
fn tree<L>(
    runs: &[(u32, L)],
    out: &mut Vec<libc::sock_filter>,
    leaf: &mut Emit<L>,
) -> Result<(), TooFar> {
    let [(_, only)] = runs else {
        let (left, right) = runs.split_at(runs.len() / 2);
        let mut below = Vec::new();
        tree(left, &mut below, leaf)?;
        // nr >= right's first: over the left subtree, by the test itself when it is short
        // enough, else by a `ja` the test falls to.
        match u8::try_from(below.len()) {
            Ok(n) => out.push(ins(BPF_JMP_JGE_K, n, 0, right[0].0)),
            Err(_) => {
                out.push(ins(BPF_JMP_JGE_K, 0, 1, right[0].0));
                let over = u32::try_from(below.len()).map_err(|_| TooFar)?;
                out.push(ins(BPF_JMP_JA, 0, 0, over));
            }
        }
        out.extend(below);
        return tree(right, out, leaf);
    };
    leaf(only, out)
}

/// Writes a leaf's instructions.
type Emit<L> = dyn FnMut(&L, &mut Vec<libc::sock_filter>) -> Result<(), TooFar>;

/// A rule whose tests do not fit the 255 instructions a conditional jump can cross.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a rule of the program is too long for a conditional jump")]
pub struct TooFar;

/// A test of argument `arg` of a call (seccomp_data.args): all 64 bits when `wide`, else the
/// low 32 (an `int` or `mode_t` argument: the kernel reads no more of it, so nothing hides in
/// the upper half).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cond {
    pub arg: u8,
    pub wide: bool,
    pub op: Op,
    pub value: u64,
}

/// How a [`Cond`] compares the argument with its value (unsigned).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Gt,
    /// `arg & mask == value`.
    MaskedEq(u64),
    /// `arg & value != 0`: any of the bits (the low 32 only).
    AnySet,
}

/// What a call number leads to: an answer, or rules (each a list of tests that must all hold)
/// answering `matched` when one of them holds and `otherwise` when none does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Leaf {
    Ret(u32),
    Rules {
        rules: Vec<Vec<Cond>>,
        matched: u32,
        otherwise: u32,
    },
}

/// Where a jump of a test goes: the next instruction, over `n` more, or out of the rule.
#[derive(Clone, Copy)]
enum To {
    Next,
    Skip(u8),
    Fail,
}

/// A test's instructions: the load of an argument's half, an AND, or a jump.
fn test(code: u16, k: u32, jt: To, jf: To) -> (libc::sock_filter, To, To) {
    (ins(code, 0, 0, k), jt, jf)
}

/// The high and the low 32 bits of `v`.
fn halves(v: u64) -> (u32, u32) {
    let [a, b, c, d, e, f, g, h] = v.to_be_bytes();
    (
        u32::from_be_bytes([a, b, c, d]),
        u32::from_be_bytes([e, f, g, h]),
    )
}

/// The instructions of `c` (the accumulator is free: leaves end the search).
fn cond_code(c: &Cond) -> Vec<(libc::sock_filter, To, To)> {
    let lo_at = ARGS + 8 * u32::from(c.arg);
    let hi_at = lo_at + 4;
    let (hi, lo) = halves(c.value);
    let load = |at| test(BPF_LD_W_ABS, at, To::Next, To::Next);
    let mut out = Vec::new();
    match (c.op, c.wide) {
        (Op::MaskedEq(mask), wide) => {
            let (mhi, mlo) = halves(mask);
            if wide && (mhi != 0 || hi != 0) {
                out.push(load(hi_at));
                out.push(test(BPF_ALU_AND_K, mhi, To::Next, To::Next));
                out.push(test(BPF_JMP_JEQ_K, hi, To::Next, To::Fail));
            }
            out.push(load(lo_at));
            out.push(test(BPF_ALU_AND_K, mlo, To::Next, To::Next));
            out.push(test(BPF_JMP_JEQ_K, lo, To::Next, To::Fail));
        }
        (Op::AnySet, _) => {
            out.push(load(lo_at));
            out.push(test(BPF_JMP_JSET_K, lo, To::Next, To::Fail));
        }
        (Op::Eq, wide) => {
            if wide {
                out.push(load(hi_at));
                out.push(test(BPF_JMP_JEQ_K, hi, To::Next, To::Fail));
            }
            out.push(load(lo_at));
            out.push(test(BPF_JMP_JEQ_K, lo, To::Next, To::Fail));
        }
        (Op::Ne, wide) => {
            if wide {
                // The high halves differ: it holds (over the low half's two instructions).
                out.push(load(hi_at));
                out.push(test(BPF_JMP_JEQ_K, hi, To::Next, To::Skip(2)));
            }
            out.push(load(lo_at));
            out.push(test(BPF_JMP_JEQ_K, lo, To::Fail, To::Next));
        }
        (Op::Gt, wide) => {
            if wide {
                // hi > h holds; hi == h asks the low half; hi < h fails.
                out.push(load(hi_at));
                out.push(test(BPF_JMP_JGT_K, hi, To::Skip(3), To::Next));
                out.push(test(BPF_JMP_JEQ_K, hi, To::Next, To::Fail));
            }
            out.push(load(lo_at));
            out.push(test(BPF_JMP_JGT_K, lo, To::Next, To::Fail));
        }
        (Op::Lt, wide) => {
            if wide {
                // hi < h holds; hi == h asks the low half; hi > h fails.
                out.push(load(hi_at));
                out.push(test(BPF_JMP_JGE_K, hi, To::Next, To::Skip(3)));
                out.push(test(BPF_JMP_JEQ_K, hi, To::Next, To::Fail));
            }
            out.push(load(lo_at));
            out.push(test(BPF_JMP_JGE_K, lo, To::Fail, To::Next));
        }
    }
    out
}

/// A leaf: its answer, or its rules in order, each ending in `matched` and failing over to
/// the next, then `otherwise`.
fn emit_leaf(leaf: &Leaf, out: &mut Vec<libc::sock_filter>) -> Result<(), TooFar> {
    let (rules, matched, otherwise) = match leaf {
        Leaf::Ret(action) => {
            out.push(ins(BPF_RET_K, 0, 0, *action));
            return Ok(());
        }
        Leaf::Rules {
            rules,
            matched,
            otherwise,
        } => (rules, *matched, *otherwise),
    };
    for rule in rules {
        let code: Vec<(libc::sock_filter, To, To)> = rule.iter().flat_map(cond_code).collect();
        // The rule's return follows its tests; a failed test jumps past it.
        let end = code.len() + 1;
        for (i, (mut insn, jt, jf)) in code.into_iter().enumerate() {
            let offset = |to: To| -> Result<u8, TooFar> {
                match to {
                    To::Next => Ok(0),
                    To::Skip(n) => Ok(n),
                    To::Fail => u8::try_from(end - i - 1).map_err(|_| TooFar),
                }
            };
            insn.jt = offset(jt)?;
            insn.jf = offset(jf)?;
            out.push(insn);
        }
        out.push(ins(BPF_RET_K, 0, 0, matched));
    }
    out.push(ins(BPF_RET_K, 0, 0, otherwise));
    Ok(())
}

/// A program answering each number of `leaves` by its leaf, the numbers `enosys` with ENOSYS
/// (before any rule: the calls whose arguments a filter cannot read), and `miss` for every
/// other number of `arch`; another architecture's calls (x32 on x86_64 included) kill the
/// process.
pub fn conditional(
    arch: Arch,
    leaves: &[(u32, Leaf)],
    miss: u32,
    enosys: &[u32],
) -> Result<Vec<libc::sock_filter>, TooFar> {
    let nosys = libc::SECCOMP_RET_ERRNO | libc::ENOSYS.unsigned_abs();
    let all: Vec<(u32, Leaf)> = enosys
        .iter()
        .map(|&nr| (nr, Leaf::Ret(nosys)))
        .chain(
            leaves
                .iter()
                .filter(|(nr, _)| !enosys.contains(nr))
                .cloned(),
        )
        .collect();
    let mut out = prologue(arch, None);
    tree(&segments(&all, &Leaf::Ret(miss)), &mut out, &mut emit_leaf)?;
    Ok(out)
}

/// One program that answers as `programs` installed in this order answer together, or None
/// when they cannot be joined. The kernel runs every installed program and keeps the answer
/// of highest precedence (a kill before an errno before allow), the last installed among
/// equals. So the joined program runs them newest first, and where one allows, the next
/// older one decides: its `ret allow` instructions become jumps to the next program, which
/// keeps every other offset. That is exact when each program answers only allow, an errno
/// or a kill, and kills alike for another architecture (all of bosun's but SystemCallLog='s,
/// which logs). One program instead of three spares the kernel the fixed cost of each at
/// install (its JIT image, its action cache) and at every call it cannot answer from cache.
pub fn chain(programs: &[Vec<libc::sock_filter>]) -> Option<Vec<libc::sock_filter>> {
    const MAX_INSNS: usize = 4096;
    let ret_ok = |i: &libc::sock_filter| {
        i.code != BPF_RET_K
            || i.k == libc::SECCOMP_RET_ALLOW
            || i.k == libc::SECCOMP_RET_KILL_PROCESS
            || i.k & libc::SECCOMP_RET_ACTION_FULL == libc::SECCOMP_RET_ERRNO
    };
    let total: usize = programs.iter().map(Vec::len).sum();
    if programs.len() < 2 || total > MAX_INSNS || !programs.iter().flatten().all(ret_ok) {
        return None;
    }
    let mut out = Vec::with_capacity(total);
    let newest_first: Vec<&Vec<libc::sock_filter>> = programs.iter().rev().collect();
    for (n, program) in newest_first.iter().enumerate() {
        let last = n + 1 == newest_first.len();
        let end = out.len() + program.len();
        for insn in program.iter() {
            let allow = insn.code == BPF_RET_K && insn.k == libc::SECCOMP_RET_ALLOW;
            if allow && !last {
                let over = u32::try_from(end - out.len() - 1).ok()?;
                out.push(ins(BPF_JMP_JA, 0, 0, over));
            } else {
                out.push(*insn);
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `program` as the kernel would for `nr` on `arch` (a tiny cBPF interpreter for the
    /// instructions this module emits).
    fn run(program: &[libc::sock_filter], arch: u32, nr: u32) -> u32 {
        run_with(program, arch, nr, [0; 6])
    }

    /// [`run`] with the call's arguments.
    fn run_with(program: &[libc::sock_filter], arch: u32, nr: u32, args: [u64; 6]) -> u32 {
        let (mut pc, mut acc) = (0usize, 0u32);
        loop {
            let i = program[pc];
            pc += 1;
            match i.code {
                BPF_LD_W_ABS => {
                    acc = match i.k {
                        0 => nr,
                        4 => arch,
                        k => {
                            let arg = args[((k - ARGS) / 8) as usize];
                            let (hi, lo) = halves(arg);
                            if (k - ARGS).is_multiple_of(8) { lo } else { hi }
                        }
                    }
                }
                BPF_ALU_AND_K => acc &= i.k,
                BPF_JMP_JA => pc += i.k as usize,
                BPF_JMP_JEQ_K | BPF_JMP_JGT_K | BPF_JMP_JGE_K | BPF_JMP_JSET_K => {
                    let taken = match i.code {
                        BPF_JMP_JEQ_K => acc == i.k,
                        BPF_JMP_JGT_K => acc > i.k,
                        BPF_JMP_JSET_K => acc & i.k != 0,
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
        // Left subtrees too long for a test's jump are crossed by a `ja`.
        let scattered: Vec<(u32, u32)> = (0..1000).map(|n| (2 * n, n)).collect();
        let p = program(Arch::X86_64, &scattered, kill, None);
        assert!(p.iter().any(|i| i.code == BPF_JMP_JA));
        for nr in 0..2002 {
            let want = if nr % 2 == 0 && nr < 2000 {
                nr / 2
            } else {
                kill
            };
            assert_eq!(run(&p, arch, nr), want, "nr {nr}");
        }
        let empty = program(Arch::Aarch64, &[], allow, None);
        assert_eq!(run(&empty, audit_arch(Arch::Aarch64), 5), allow);
    }

    #[test]
    fn chained_programs_answer_as_the_kernel_runs_them_together() {
        let (allow, kill) = (libc::SECCOMP_RET_ALLOW, libc::SECCOMP_RET_KILL_PROCESS);
        let errno = |e| libc::SECCOMP_RET_ERRNO | e;
        // Installed first to last: call 1 refused by the oldest only, 2 by the two older
        // with different errnos, 3 killed by the newest, 4 refused by the newest and the
        // oldest, 5 by nobody.
        let oldest = program(
            Arch::X86_64,
            &[(1, errno(97)), (2, errno(1)), (4, errno(97))],
            allow,
            None,
        );
        let middle = program(Arch::X86_64, &[(2, errno(13))], allow, None);
        let newest = program(Arch::X86_64, &[(3, kill), (4, errno(38))], allow, None);
        let installed = [oldest, middle, newest];
        let one = chain(&installed).unwrap_or_default();
        let arch = audit_arch(Arch::X86_64);
        // What the kernel keeps: the highest precedence, the newest among equals.
        let together = |nr| {
            installed
                .iter()
                .rev()
                .map(|p| run(p, arch, nr))
                .fold(allow, |kept, r| {
                    let rank = |a: u32| match a & libc::SECCOMP_RET_ACTION_FULL {
                        x if x == kill => 0,
                        x if x == libc::SECCOMP_RET_ERRNO => 1,
                        _ => 2,
                    };
                    if rank(r) < rank(kept) { r } else { kept }
                })
        };
        for nr in 0..8 {
            assert_eq!(run(&one, arch, nr), together(nr), "nr {nr}");
        }
        assert_eq!(run(&one, arch, 2), errno(13));
        assert_eq!(run(&one, arch, 4), errno(38));
        assert_eq!(run(&one, arch, 1), errno(97));
        assert_eq!(run(&one, 0x4000_0003, 5), kill);
        // A logging program is not joined.
        let log = program(Arch::X86_64, &[(1, libc::SECCOMP_RET_LOG)], allow, None);
        assert!(chain(&[log, installed[0].clone()]).is_none());
    }

    /// What `c` says of `arg`, as the kernel's tests should.
    fn holds(c: &Cond, arg: u64) -> bool {
        let (a, v) = if c.wide {
            (arg, c.value)
        } else {
            (arg & 0xffff_ffff, c.value & 0xffff_ffff)
        };
        match c.op {
            Op::Eq => a == v,
            Op::Ne => a != v,
            Op::Lt => a < v,
            Op::Gt => a > v,
            Op::MaskedEq(m) => {
                let m = if c.wide { m } else { m & 0xffff_ffff };
                a & m == v
            }
            Op::AnySet => arg & c.value & 0xffff_ffff != 0,
        }
    }

    #[test]
    fn argument_tests_answer_as_their_conditions_say() {
        let (eperm, allow) = (libc::SECCOMP_RET_ERRNO | 1, libc::SECCOMP_RET_ALLOW);
        let nosys = libc::SECCOMP_RET_ERRNO | 38;
        let values = [
            0,
            1,
            5,
            0x7fff_ffff,
            0xffff_ffff,
            0x1_0000_0000,
            0x1_0000_0005,
            0x2_0000_0000,
            u64::MAX,
        ];
        let ops = [
            Op::Eq,
            Op::Ne,
            Op::Lt,
            Op::Gt,
            Op::MaskedEq(0x1_0000_0004),
            Op::MaskedEq(0x4),
            Op::AnySet,
        ];
        let mut conds = Vec::new();
        for op in ops {
            for wide in [false, true] {
                for value in [5, 0x1_0000_0005, 0x1_0000_0004, 4] {
                    conds.push(Cond {
                        arg: 2,
                        wide,
                        op,
                        value,
                    });
                }
            }
        }
        // Each condition alone on call 10, and two rules of two tests on call 11.
        for c in &conds {
            let second = Cond {
                arg: 0,
                wide: false,
                op: Op::Ne,
                value: 1,
            };
            let rules = vec![vec![*c, second], vec![second, *c]];
            let leaves = vec![
                (
                    10,
                    Leaf::Rules {
                        rules: vec![vec![*c]],
                        matched: eperm,
                        otherwise: allow,
                    },
                ),
                (
                    11,
                    Leaf::Rules {
                        rules,
                        matched: eperm,
                        otherwise: allow,
                    },
                ),
                (12, Leaf::Ret(eperm)),
            ];
            let p =
                conditional(Arch::X86_64, &leaves, allow, &[13]).unwrap_or_else(|e| panic!("{e}"));
            let arch = audit_arch(Arch::X86_64);
            for &v in &values {
                for first in [0, 1] {
                    let args = [first, 0, v, 0, 0, 0];
                    let want = if holds(c, v) { eperm } else { allow };
                    assert_eq!(run_with(&p, arch, 10, args), want, "{c:?} of {v:#x}");
                    let want = if holds(c, v) && first != 1 {
                        eperm
                    } else {
                        allow
                    };
                    assert_eq!(run_with(&p, arch, 11, args), want, "{c:?} and arg0 {first}");
                }
                assert_eq!(run_with(&p, arch, 12, [0, 0, v, 0, 0, 0]), eperm);
                assert_eq!(run_with(&p, arch, 13, [0, 0, v, 0, 0, 0]), nosys);
                assert_eq!(run_with(&p, arch, 9, [0, 0, v, 0, 0, 0]), allow);
            }
        }
    }
}
