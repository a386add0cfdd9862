//! Kept plans and kept namespaces: a command's mount plan is kept while what it is made
//! from is the same ([`kept`]), and from its second use a namespace made once from it
//! ([`Template`]), which later runs join with a copy of their own ([`RunPlan::apply`]).

use std::ffi::{CStr, CString};
use std::io;
use std::path::{Path, PathBuf};

use nix::mount::{MsFlags, mount};
use nix::sched::{CloneFlags, unshare};

use super::{Entry, Extras, Mode, Plan, Table, build, cstring, packed};

/// What a run needs to join the kept namespace of its plan: setns(2) into it, a copy of it
/// (unshare), then the run's own PrivateTmp= trees attached where the plan bound its
/// placeholders, remounted with the plan's flags.
#[derive(Debug)]
pub(super) struct Join {
    /// Per PrivateTmp= step of the plan (same order as `Plan::private_tmp`): the path inside
    /// the new root and the flags of its remount, if the plan remounts it.
    pub(super) private_tmp: Vec<(CString, Option<MsFlags>)>,
    pub(super) uts: bool,
    pub(super) propagation: MsFlags,
}

/// A kept namespace, let go of by the janitor (its last close unmounts every mount in it
/// and waits for an RCU grace period: not PID 1's to wait for).
#[derive(Debug)]
pub(super) struct Template(Option<std::os::fd::OwnedFd>);

impl Drop for Template {
    fn drop(&mut self) {
        if let Some(fd) = self.0.take() {
            crate::service::janitor::close(fd);
        }
    }
}

/// A command's plan for one run: the plan (kept while nothing it was made from changes, see
/// [`super::plan`]) and this run's PrivateTmp= sources for the steps that bind them.
#[derive(Debug)]
pub struct RunPlan {
    pub(super) plan: std::sync::Arc<Plan>,
    pub(super) sources: Vec<(usize, CString)>,
}

impl RunPlan {
    pub(super) fn new(plan: Plan) -> Self {
        RunPlan {
            plan: std::sync::Arc::new(plan),
            sources: Vec::new(),
        }
    }

    /// In the child, between fork and exec: join the plan's kept namespace if there is one,
    /// else every mount in order. No allocation.
    pub fn apply(&self) -> io::Result<()> {
        if let (Some(join), Some(Some(Template(Some(template))))) =
            (&self.plan.join, self.plan.template.get())
        {
            return self.join(join, template);
        }
        self.make()
    }

    /// Join `template`: a copy of it for this run, the run's PrivateTmp= trees attached.
    fn join(&self, join: &Join, template: &std::os::fd::OwnedFd) -> io::Result<()> {
        let none = None::<&CStr>;
        // Named as "the mount namespace" when they fail (past the plan's own steps).
        let fail = |e: nix::errno::Errno| packed(self.plan.steps.len(), e);
        let io_fail = |e: io::Error| {
            fail(nix::errno::Errno::from_raw(
                e.raw_os_error().unwrap_or(libc::EIO),
            ))
        };
        // The run's trees, taken while its directories are still reachable.
        let mut trees: [Option<std::os::fd::OwnedFd>; 2] = [None, None];
        for (slot, (_, source)) in trees.iter_mut().zip(&self.sources) {
            *slot = Some(crate::sys::clone_tree(source).map_err(io_fail)?);
        }
        crate::sys::join_mount_namespace(template).map_err(io_fail)?;
        let flags = if join.uts {
            CloneFlags::CLONE_NEWNS | CloneFlags::CLONE_NEWUTS
        } else {
            CloneFlags::CLONE_NEWNS
        };
        unshare(flags).map_err(fail)?;
        // Nothing made here reaches the kept namespace (or the other runs' copies).
        mount(none, c"/", none, MsFlags::MS_SLAVE | MsFlags::MS_REC, none).map_err(fail)?;
        // setns(2) put this process at the namespace's root: the staged tree, moved onto `/`
        // when the kept namespace was made.
        for (tree, (at, _)) in trees.iter().zip(&self.sources) {
            let Some(tree) = tree else { continue };
            let Some(k) = self.plan.private_tmp.iter().position(|(i, _)| i == at) else {
                continue;
            };
            let Some((target, remount)) = join.private_tmp.get(k) else {
                continue;
            };
            crate::sys::attach_tree(tree, target).map_err(io_fail)?;
            if let Some(f) = remount {
                let f = *f | MsFlags::MS_REMOUNT | MsFlags::MS_BIND;
                mount(none, target.as_c_str(), none, f, none).map_err(fail)?;
            }
        }
        mount(none, c"/", none, join.propagation | MsFlags::MS_REC, none).map_err(fail)
    }

    /// Every mount of the plan in order, with this run's PrivateTmp= sources.
    fn make(&self) -> io::Result<()> {
        self.plan.apply_with(&self.sources)
    }

    /// The step sys.rs runs in the child (see [`RunPlan::apply`]).
    pub fn into_step(self) -> crate::sys::ChildStep {
        crate::sys::ChildStep(Box::new(move || self.apply()))
    }

    /// What the steps are about, to name the one that fails ([`super::failure`]).
    pub fn labels(&self) -> std::sync::Arc<Plan> {
        std::sync::Arc::clone(&self.plan)
    }
}

/// What a kept plan was made from: the entries (PrivateTmp='s sources left out: each run
/// has its own), the mount table's generation, the staging paths and the extras.
#[derive(PartialEq, Eq, Hash)]
struct PlanKey {
    entries: Vec<Entry>,
    table: u64,
    staging: PathBuf,
    nodes: PathBuf,
    extras: Extras,
}

/// The most plans kept (one per distinct set of inputs; a bound against transient units).
const PLANS_MAX: usize = 256;

thread_local! {
    static PLANS: std::cell::RefCell<std::collections::HashMap<PlanKey, std::sync::Arc<Plan>>> =
        std::cell::RefCell::default();
}

/// [`build`]'s plan for `list`, made once and kept while the entries (looked up afresh at
/// every start), the mount table and the rest are the same; this run's PrivateTmp= sources
/// go into the steps that bind them. Planning compares every mount with every entry; PID 1
/// spent more on it than on the fork.
pub(super) fn kept(
    list: Vec<Entry>,
    table: &Table,
    staging: &Path,
    nodes: &Path,
    extras: Extras,
) -> RunPlan {
    let sources: Vec<(PathBuf, PathBuf)> = list
        .iter()
        .filter(|e| e.mode == Mode::PrivateTmp)
        .filter_map(|e| Some((e.path.clone(), e.source.clone()?)))
        .collect();
    let mut entries = list;
    for e in entries.iter_mut().filter(|e| e.mode == Mode::PrivateTmp) {
        e.source = Some(PathBuf::new());
        e.id = (0, 0, 0);
    }
    let key = PlanKey {
        entries,
        table: table.generation,
        staging: staging.to_owned(),
        nodes: nodes.to_owned(),
        extras,
    };
    let mut built = false;
    let plan = PLANS.with_borrow_mut(|plans| {
        if let Some(plan) = plans.get(&key) {
            return std::sync::Arc::clone(plan);
        }
        built = true;
        // Plans of an older mount table are not used again.
        plans.retain(|k, _| k.table == key.table);
        // The kept plan is built with the first run's sources; every run supplies its own.
        let mut list = key.entries.clone();
        for e in list.iter_mut().filter(|e| e.mode == Mode::PrivateTmp) {
            e.source = sources
                .iter()
                .find(|(path, _)| *path == e.path)
                .map(|(_, source)| source.clone());
        }
        let plan = std::sync::Arc::new(build(&list, table, staging, nodes, &key.extras));
        if plans.len() >= PLANS_MAX {
            plans.clear();
        }
        plans.insert(key, std::sync::Arc::clone(&plan));
        plan
    });
    let sources = plan
        .private_tmp
        .iter()
        .filter_map(|(at, path)| {
            let (_, source) = sources.iter().find(|(p, _)| p == path)?;
            Some((*at, cstring(source)))
        })
        .collect();
    if !built && plan.join.is_some() {
        plan.template.get_or_init(|| make_template(&plan, nodes));
    }
    RunPlan { plan, sources }
}

/// The kept namespace of `plan` ([`Template`]): made by a forked child from the plan, with
/// an empty placeholder where each run's PrivateTmp= tree goes. None where it cannot be made
/// (every run then makes its own namespace, as the first did).
fn make_template(plan: &std::sync::Arc<Plan>, nodes: &Path) -> Option<Template> {
    let placeholder = cstring(&nodes.join("dir"));
    let run = RunPlan {
        plan: std::sync::Arc::clone(plan),
        sources: plan
            .private_tmp
            .iter()
            .map(|(at, _)| (*at, placeholder.clone()))
            .collect(),
    };
    crate::sys::hold_namespace(&|| run.make())
        .ok()
        .map(|fd| Template(Some(fd)))
}
