//! bosun's seccomp compiler: classic BPF programs that dispatch on the system-call number by a
//! binary search, for SystemCallFilter='s plain lists ([`Spec::list`]) and for the
//! restrictions that test arguments ([`spec_of`]: RestrictAddressFamilies=,
//! RestrictNamespaces=, MemoryDenyWriteExecute=, ...), written one by one ([`written`]) or
//! joined into one ([`joined`]). A program written as one test per call in a row (as
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
        otherwise: Box<Leaf>,
    },
}

/// One program's answers, before it is written: a leaf per listed call number, `miss` for
/// every other number, ENOSYS above `above`.
#[derive(Debug, Clone)]
pub struct Spec {
    pub leaves: Vec<(u32, Leaf)>,
    pub miss: u32,
    pub above: Option<u32>,
}

impl Spec {
    /// A plain list's program (SystemCallFilter=): each number `actions` names answered with
    /// its SECCOMP_RET_* value (any order), `miss` for the others, ENOSYS above `above`.
    pub fn list(actions: &[(u32, u32)], miss: u32, above: Option<u32>) -> Spec {
        Spec {
            leaves: actions.iter().map(|&(nr, a)| (nr, Leaf::Ret(a))).collect(),
            miss,
            above,
        }
    }

    /// The leaf of `nr`, with `by_number` this spec's leaves (the first of a number wins).
    fn leaf(&self, nr: u32, by_number: &std::collections::HashMap<u32, &Leaf>) -> Leaf {
        match self.above {
            Some(max) if nr > max => {
                Leaf::Ret(libc::SECCOMP_RET_ERRNO | libc::ENOSYS.unsigned_abs())
            }
            _ => by_number
                .get(&nr)
                .map_or(Leaf::Ret(self.miss), |leaf| (*leaf).clone()),
        }
    }

    fn by_number(&self) -> std::collections::HashMap<u32, &Leaf> {
        let mut map = std::collections::HashMap::new();
        for (nr, leaf) in &self.leaves {
            map.entry(*nr).or_insert(leaf);
        }
        map
    }

    /// Whether it answers only allow, an errno or a kill (what [`joined`] can join).
    fn joinable(&self) -> bool {
        let ok = |a: u32| {
            a == libc::SECCOMP_RET_ALLOW
                || a == libc::SECCOMP_RET_KILL_PROCESS
                || a & libc::SECCOMP_RET_ACTION_FULL == libc::SECCOMP_RET_ERRNO
        };
        fn leaf_ok(leaf: &Leaf, ok: &dyn Fn(u32) -> bool) -> bool {
            match leaf {
                Leaf::Ret(a) => ok(*a),
                Leaf::Rules {
                    matched, otherwise, ..
                } => ok(*matched) && *matched != libc::SECCOMP_RET_ALLOW && leaf_ok(otherwise, ok),
            }
        }
        ok(self.miss) && self.leaves.iter().all(|(_, l)| leaf_ok(l, &ok))
    }
}

/// `first`, and where it allows, what `rest` answer (in order).
fn then(first: Leaf, rest: &[Leaf]) -> Leaf {
    let next = || match rest.split_first() {
        Some((head, tail)) => then(head.clone(), tail),
        None => Leaf::Ret(libc::SECCOMP_RET_ALLOW),
    };
    match first {
        Leaf::Ret(libc::SECCOMP_RET_ALLOW) => next(),
        Leaf::Ret(action) => Leaf::Ret(action),
        Leaf::Rules {
            rules,
            matched,
            otherwise,
        } => Leaf::Rules {
            rules,
            matched,
            otherwise: Box::new(then(*otherwise, rest)),
        },
    }
}

/// One program that answers as `specs` installed in this order answer together, or None
/// when they cannot be joined. The kernel runs every installed program and keeps the answer
/// of highest precedence (a kill before an errno before allow), the last installed among
/// equals. So each call number's leaf is the newest program's, and where that allows, the
/// next older one's, and so on: exact when every program answers only allow, an errno or a
/// kill (all of bosun's but SystemCallLog='s, which logs). One program, one search over the
/// numbers: the kernel converts, JITs and emulates (once per number, for its action cache)
/// half the instructions the programs had apart, and one program instead of three.
pub fn joined(arch: Arch, specs: &[Spec]) -> Result<Option<Vec<libc::sock_filter>>, TooFar> {
    if specs.len() < 2 || !specs.iter().all(Spec::joinable) {
        return Ok(None);
    }
    let above = specs.iter().filter_map(|s| s.above).min();
    let mut numbers: Vec<u32> = specs
        .iter()
        .flat_map(|s| s.leaves.iter().map(|(nr, _)| *nr))
        .filter(|nr| above.is_none_or(|max| *nr <= max))
        .collect();
    numbers.sort_unstable();
    numbers.dedup();
    let newest_first: Vec<(&Spec, std::collections::HashMap<u32, &Leaf>)> =
        specs.iter().rev().map(|s| (s, s.by_number())).collect();
    let chained = |nr: Option<u32>| {
        let leaves: Vec<Leaf> = newest_first
            .iter()
            .map(|(s, map)| nr.map_or(Leaf::Ret(s.miss), |nr| s.leaf(nr, map)))
            .collect();
        match leaves.split_first() {
            Some((head, tail)) => then(head.clone(), tail),
            None => Leaf::Ret(libc::SECCOMP_RET_ALLOW),
        }
    };
    let leaves: Vec<(u32, Leaf)> = numbers.iter().map(|&nr| (nr, chained(Some(nr)))).collect();
    let mut out = prologue(arch, above);
    tree(&segments(&leaves, &chained(None)), &mut out, &mut emit_leaf)?;
    Ok(Some(out))
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
        } => (rules, *matched, otherwise),
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
    emit_leaf(otherwise, out)
}

/// A program with argument tests: each number of `leaves` answered by its leaf, the numbers
/// `enosys` with ENOSYS (before any rule: the calls whose arguments a filter cannot read),
/// and `miss` for every other number.
pub fn spec_of(leaves: &[(u32, Leaf)], miss: u32, enosys: &[u32]) -> Spec {
    let nosys = libc::SECCOMP_RET_ERRNO | libc::ENOSYS.unsigned_abs();
    let leaves = enosys
        .iter()
        .map(|&nr| (nr, Leaf::Ret(nosys)))
        .chain(
            leaves
                .iter()
                .filter(|(nr, _)| !enosys.contains(nr))
                .cloned(),
        )
        .collect();
    Spec {
        leaves,
        miss,
        above: None,
    }
}

/// The program of one [`Spec`].
pub fn written(arch: Arch, spec: &Spec) -> Result<Vec<libc::sock_filter>, TooFar> {
    let mut out = prologue(arch, spec.above);
    tree(
        &segments(&spec.leaves, &Leaf::Ret(spec.miss)),
        &mut out,
        &mut emit_leaf,
    )?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`Spec::list`]'s program on x86_64.
    fn list(actions: &[(u32, u32)], miss: u32, above: Option<u32>) -> Vec<libc::sock_filter> {
        written(Arch::X86_64, &Spec::list(actions, miss, above)).unwrap_or_default()
    }

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
        let p = list(&listed, kill, Some(450));
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
        assert!(list(&run_of, kill, None).len() < 16);
        // Left subtrees too long for a test's jump are crossed by a `ja`.
        let scattered: Vec<(u32, u32)> = (0..1000).map(|n| (2 * n, n)).collect();
        let p = list(&scattered, kill, None);
        assert!(p.iter().any(|i| i.code == BPF_JMP_JA));
        for nr in 0..2002 {
            let want = if nr % 2 == 0 && nr < 2000 {
                nr / 2
            } else {
                kill
            };
            assert_eq!(run(&p, arch, nr), want, "nr {nr}");
        }
        let empty = written(Arch::Aarch64, &Spec::list(&[], allow, None)).unwrap_or_default();
        assert_eq!(run(&empty, audit_arch(Arch::Aarch64), 5), allow);
    }

    #[test]
    fn joined_programs_answer_as_the_kernel_runs_them_together() {
        let (allow, kill) = (libc::SECCOMP_RET_ALLOW, libc::SECCOMP_RET_KILL_PROCESS);
        let errno = |e| libc::SECCOMP_RET_ERRNO | e;
        let ret = |nr, a| (nr, Leaf::Ret(a));
        // Installed first to last: call 1 refused by the oldest only, 2 by the two older
        // with different errnos, 3 killed by the newest, 4 refused by the newest and the
        // oldest, 5 by nobody, 6 refused by the middle one when its argument 0 is 7, else
        // by the oldest; numbers above 20 answer ENOSYS (the newest's table ends there).
        let oldest = Spec {
            leaves: vec![
                ret(1, errno(97)),
                ret(2, errno(1)),
                ret(4, errno(97)),
                ret(6, errno(2)),
            ],
            miss: allow,
            above: None,
        };
        let rule = Leaf::Rules {
            rules: vec![vec![Cond {
                arg: 0,
                wide: false,
                op: Op::Eq,
                value: 7,
            }]],
            matched: errno(13),
            otherwise: Box::new(Leaf::Ret(allow)),
        };
        let middle = Spec {
            leaves: vec![ret(2, errno(13)), (6, rule)],
            miss: allow,
            above: None,
        };
        let newest = Spec {
            leaves: vec![ret(3, kill), ret(4, errno(38))],
            miss: allow,
            above: Some(20),
        };
        let installed = [oldest, middle, newest];
        let one = joined(Arch::X86_64, &installed)
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_default();
        let apart: Vec<Vec<libc::sock_filter>> = installed
            .iter()
            .map(|s| written(Arch::X86_64, s).unwrap_or_default())
            .collect();
        let arch = audit_arch(Arch::X86_64);
        // What the kernel keeps: the highest precedence, the newest among equals.
        let together = |nr, args| {
            apart
                .iter()
                .rev()
                .map(|p| run_with(p, arch, nr, args))
                .fold(allow, |kept, r| {
                    let rank = |a: u32| match a & libc::SECCOMP_RET_ACTION_FULL {
                        x if x == kill => 0,
                        x if x == libc::SECCOMP_RET_ERRNO => 1,
                        _ => 2,
                    };
                    if rank(r) < rank(kept) { r } else { kept }
                })
        };
        for nr in 0..30 {
            for a0 in [0, 7] {
                let args = [a0, 0, 0, 0, 0, 0];
                assert_eq!(
                    run_with(&one, arch, nr, args),
                    together(nr, args),
                    "nr {nr} arg {a0}"
                );
            }
        }
        assert_eq!(run(&one, arch, 2), errno(13));
        assert_eq!(run(&one, arch, 4), errno(38));
        assert_eq!(run(&one, arch, 1), errno(97));
        assert_eq!(run_with(&one, arch, 6, [7, 0, 0, 0, 0, 0]), errno(13));
        assert_eq!(run(&one, arch, 6), errno(2));
        assert_eq!(run(&one, arch, 25), libc::SECCOMP_RET_ERRNO | 38);
        assert_eq!(run(&one, 0x4000_0003, 5), kill);
        assert!(one.len() < apart.iter().map(Vec::len).sum::<usize>());
        // A logging program is not joined.
        let log = Spec {
            leaves: vec![ret(1, libc::SECCOMP_RET_LOG)],
            miss: allow,
            above: None,
        };
        assert_eq!(joined(Arch::X86_64, &[log, installed[0].clone()]), Ok(None));
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
                        otherwise: Box::new(Leaf::Ret(allow)),
                    },
                ),
                (
                    11,
                    Leaf::Rules {
                        rules,
                        matched: eperm,
                        otherwise: Box::new(Leaf::Ret(allow)),
                    },
                ),
                (12, Leaf::Ret(eperm)),
            ];
            let p = written(Arch::X86_64, &spec_of(&leaves, allow, &[13]))
                .unwrap_or_else(|e| panic!("{e}"));
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
