//! `bosun image prepare|check|diff|seed|link`: argument parsing and printing only; the work is
//! in [`crate::volume`] and, for `link`, [`crate::multicall`]. Run at image build time
//! (prepare, check, link), in a running container (diff), or in a Kubernetes init container
//! (seed).

use std::error::Error;
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::vocab::exit::Exit;
use crate::volume::classify::{self, Class};
use crate::volume::copy::Progress;
use crate::volume::image::{self, Layout};
use crate::volume::populate::{self, Image};
use crate::volume::state::Volume;

const HELP: &str = "\
bosun image — build-time and volume tools

Usage:
  bosun image prepare [OPTIONS] [--build-id ID] LIST...
      Move every path listed in LIST (one absolute path per line; # comments) into the
      template, leave a symlink to its place in the data volume, write /etc/build-id (a fresh
      random id unless --build-id is given) and the manifests. Idempotent: a later image layer
      can add paths.
  bosun image check [OPTIONS]
      Check that every symlink into the data volume is covered by the template and that the
      template matches its manifest (a template made by hand has none: it is seeded as it is).
      Exits 1 listing the problems.
  bosun image diff [OPTIONS]
      List what was created (A), modified (M) or deleted (D) outside the data volume, /run,
      /tmp, /proc, /sys and /dev since `image prepare`: what re-creating the container loses.
  bosun image seed [OPTIONS] [--adopt] [--run-as UID:GID]
      Seed an empty data volume from the template (resumes an interrupted seeding), as an
      init container would before the main container starts; the first-boot hooks run at the
      next boot. --adopt copies only what is missing into a non-empty volume never seeded;
      --run-as (env BOSUN_RUN_AS, or PUID and PGID) gives everything seeded to that owner.
  bosun image link [--root DIR] [--bosun PATH]
      Make /usr/bin/systemctl, /usr/bin/journalctl and /usr/bin/initctl (and /bin/systemctl,
      /bin/journalctl when /bin is not /usr/bin) symlinks to bosun (PATH inside the image;
      default: this binary). Where the image has dpkg, systemctl and journalctl under /usr/bin
      and /bin are diverted first (dpkg-divert --local --rename), so a systemd package
      installed later (or already there) puts its own at NAME.distrib instead of replacing
      the link. Idempotent.

Options:
  --template DIR   the template directory (env BOSUN_TEMPLATE_DIR; default /data-template)
  --data DIR       the data volume's mount point (env BOSUN_DATA_DIR; default /data)
  --root DIR       the image's root; every other path is inside it (default /)
  -h, --help       print this help
";

/// What was asked.
#[derive(Debug, PartialEq, Eq)]
struct Request {
    verb: String,
    layout: Layout,
    build_id: Option<String>,
    adopt: bool,
    run_as: Option<(u32, u32)>,
    lists: Vec<PathBuf>,
    bosun: Option<PathBuf>,
}

/// `bosun image ...`, with `args` starting after `image`.
pub fn main(args: &[OsString]) -> Exit {
    // The same settings as PID 1's: the environment, else /etc/bosun/bosun.yaml.
    let env = match crate::config::settings() {
        Ok(env) => env,
        Err(message) => {
            crate::log::error(format_args!("{message}"));
            return Exit::Usage;
        }
    };
    let request = match parse(args, &env) {
        Ok(Some(request)) => request,
        Ok(None) => {
            crate::sys::die_on_sigpipe();
            print!("{HELP}");
            return Exit::Success;
        }
        Err(message) => {
            crate::log::error(format_args!("{message}"));
            let _ = writeln!(
                std::io::stderr(),
                "Try 'bosun image --help' for more information."
            );
            return Exit::Usage;
        }
    };
    // prepare, seed and link change the image or the volume: a reader that goes away must not
    // end them half-way (SIGPIPE stays ignored, and their messages ignore a closed stderr).
    // check and diff only read, so a closed pipe ends them quietly, as it ends systemctl.
    if matches!(request.verb.as_str(), "check" | "diff") {
        crate::sys::die_on_sigpipe();
    }
    let outcome = match request.verb.as_str() {
        "prepare" => prepare(&request),
        "check" => check(&request),
        "diff" => diff(&request),
        "link" => link(&request),
        _ => seed(&request),
    };
    match outcome {
        Ok(exit) => exit,
        Err(error) => {
            crate::log::error(format_args!("{}", crate::log::error_chain(error.as_ref())));
            Exit::Failure
        }
    }
}

fn parse(
    args: &[OsString],
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Request>, String> {
    let Some(verb) = args.first().and_then(|v| v.to_str()) else {
        return Err("missing command: prepare, check, diff, seed or link".to_owned());
    };
    if matches!(verb, "-h" | "--help" | "help") {
        return Ok(None);
    }
    if !matches!(verb, "prepare" | "check" | "diff" | "seed" | "link") {
        return Err(format!(
            "unknown command {verb:?}: expected prepare, check, diff, seed or link"
        ));
    }
    let mut request = Request {
        verb: verb.to_owned(),
        layout: Layout {
            root: PathBuf::from("/"),
            template: env("BOSUN_TEMPLATE_DIR")
                .map_or_else(|| PathBuf::from("/data-template"), PathBuf::from),
            data: env("BOSUN_DATA_DIR").map_or_else(|| PathBuf::from("/data"), PathBuf::from),
        },
        build_id: None,
        adopt: false,
        run_as: None,
        lists: Vec::new(),
        bosun: None,
    };
    if request.verb == "seed" {
        // BOSUN_RUN_AS, else PUID/PGID: the owner PID 1 would seed with.
        request.run_as = crate::config::run_as(env)?;
    }
    let mut rest = args[1..].iter();
    let mut only_lists = false;
    while let Some(arg) = rest.next() {
        let text = arg.to_str().unwrap_or("");
        if only_lists || !text.starts_with('-') || text == "-" {
            request.lists.push(PathBuf::from(arg));
            continue;
        }
        let (name, attached) = match text.split_once('=') {
            Some((name, value)) => (name, Some(OsString::from(value))),
            None => (text, None),
        };
        let mut value = || {
            attached
                .clone()
                .or_else(|| rest.next().cloned())
                .ok_or_else(|| format!("option {name} needs a value"))
        };
        match name {
            "--" => only_lists = true,
            "-h" | "--help" => return Ok(None),
            "--template" => request.layout.template = PathBuf::from(value()?),
            "--data" => request.layout.data = PathBuf::from(value()?),
            "--root" => request.layout.root = PathBuf::from(value()?),
            "--build-id" if request.verb == "prepare" => {
                request.build_id = Some(
                    value()?
                        .into_string()
                        .map_err(|_| "--build-id must be text".to_owned())?,
                );
            }
            "--adopt" if request.verb == "seed" => request.adopt = true,
            "--bosun" if request.verb == "link" => {
                let path = PathBuf::from(value()?);
                if !path.is_absolute() {
                    return Err(format!(
                        "--bosun {}: must be an absolute path inside the image",
                        path.display()
                    ));
                }
                request.bosun = Some(path);
            }
            "--run-as" if request.verb == "seed" => {
                request.run_as = Some(parse_owner(&value()?.to_string_lossy())?);
            }
            _ => {
                return Err(format!(
                    "unknown option {name} for `bosun image {}`",
                    request.verb
                ));
            }
        }
    }
    for (what, path) in [
        ("--template", &request.layout.template),
        ("--data", &request.layout.data),
    ] {
        if !path.is_absolute() {
            return Err(format!(
                "{what} {}: must be an absolute path inside the image",
                path.display()
            ));
        }
    }
    match (request.verb.as_str(), request.lists.is_empty()) {
        ("prepare", true) => Err("prepare needs at least one LIST file".to_owned()),
        ("prepare", false) | (_, true) => Ok(Some(request)),
        (verb, false) => Err(format!(
            "unexpected argument {:?} for `bosun image {verb}`",
            request.lists[0]
        )),
    }
}

/// `UID:GID` (numbers; the user need not exist in the image).
fn parse_owner(text: &str) -> Result<(u32, u32), String> {
    let (uid, gid) = text.split_once(':').unwrap_or((text, text));
    match (uid.trim().parse(), gid.trim().parse()) {
        (Ok(uid), Ok(gid)) => Ok((uid, gid)),
        _ => Err(format!("owner {text:?}: expected UID:GID as numbers")),
    }
}

type Outcome = Result<Exit, Box<dyn Error>>;

fn say(args: std::fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stderr().lock(), "bosun: {args}");
}

fn report_progress(what: &'static str) -> impl FnMut(&Progress) {
    move |p: &Progress| say(format_args!("{what}: {p}"))
}

fn report_warnings(warnings: &[crate::volume::copy::CopyWarning]) {
    for warning in warnings {
        crate::log::warn(format_args!("{warning}"));
    }
}

fn prepare(request: &Request) -> Outcome {
    let paths = image::read_lists(&request.lists)?;
    let report = image::prepare(
        &request.layout,
        &paths,
        request.build_id.as_deref(),
        &mut report_progress("prepare"),
    )?;
    report_warnings(&report.copy.warnings);
    for path in &report.moved {
        say(format_args!("moved {} to the template", path.display()));
    }
    for path in &report.already {
        say(format_args!("{} was already prepared", path.display()));
    }
    say(format_args!("build id {}", report.build_id));
    Ok(Exit::Success)
}

fn check(request: &Request) -> Outcome {
    let report = image::check(&request.layout)?;
    let mut out = std::io::stdout().lock();
    for (link, target) in &report.uncovered {
        writeln!(
            out,
            "uncovered: {} -> {} (not in the template)",
            link.display(),
            target.display()
        )?;
    }
    if report.no_manifest {
        writeln!(
            out,
            "the template has no manifest (made by hand, not by `bosun image prepare`): it is \
             seeded as it is and bosun records what it seeded; nothing to compare it with"
        )?;
    }
    for (change, rel) in &report.template_changes {
        writeln!(
            out,
            "template {} {}",
            change.letter(),
            Path::new("/").join(rel).display()
        )?;
    }
    Ok(if report.ok() {
        Exit::Success
    } else {
        Exit::Failure
    })
}

fn diff(request: &Request) -> Outcome {
    let changes = image::diff(&request.layout)?;
    let mut out = std::io::stdout().lock();
    for (change, path) in changes {
        out.write_all(format!("{} ", change.letter()).as_bytes())?;
        out.write_all(std::os::unix::ffi::OsStrExt::as_bytes(path.as_os_str()))?;
        out.write_all(b"\n")?;
    }
    Ok(Exit::Success)
}

fn link(request: &Request) -> Outcome {
    let root = &request.layout.root;
    let bosun = match &request.bosun {
        Some(path) => path.clone(),
        None => {
            let exe = std::env::current_exe()?;
            let inside = if root == Path::new("/") {
                Some(exe.clone())
            } else {
                let canonical_root = std::fs::canonicalize(root)?;
                exe.strip_prefix(&canonical_root)
                    .ok()
                    .map(|rest| Path::new("/").join(rest))
            };
            inside.ok_or_else(|| {
                format!(
                    "this bosun ({}) is outside the image {}: give the binary's path inside the image with --bosun PATH",
                    exe.display(),
                    root.display()
                )
            })?
        }
    };
    let tool = crate::multicall::dpkg_divert_for(root);
    for step in crate::multicall::link(root, &bosun, tool.as_deref())? {
        use crate::multicall::LinkStep;
        match step {
            LinkStep::Diverted { path, to } => say(format_args!(
                "dpkg-divert: packages' {} now goes to {}",
                path.display(),
                to.display()
            )),
            LinkStep::AlreadyDiverted { path } => say(format_args!(
                "dpkg-divert: {} was already diverted",
                path.display()
            )),
            LinkStep::MovedAside { path, to } => say(format_args!(
                "moved the existing {} to {}",
                path.display(),
                to.display()
            )),
            LinkStep::Linked { path, target } => {
                say(format_args!("{} -> {}", path.display(), target.display()))
            }
            LinkStep::AlreadyLinked { path } => {
                say(format_args!("{} already links to bosun", path.display()))
            }
            LinkStep::NoDpkg => say(format_args!(
                "no dpkg in the image: the links are not protected by diversions"
            )),
            LinkStep::RuntimeDir { path } => say(format_args!(
                "{} is writable by every user (mode 1777): bosun can run as any UID",
                path.display()
            )),
        }
    }
    Ok(Exit::Success)
}

fn seed(request: &Request) -> Outcome {
    let layout = &request.layout;
    let build_id_file = layout.host(Path::new("/etc/build-id"));
    let build_id = std::fs::read_to_string(&build_id_file)
        .map_err(|e| {
            format!(
                "cannot read the image's build id {}: {e}",
                build_id_file.display()
            )
        })?
        .trim()
        .to_owned();
    let image = Image {
        template: layout.host(&layout.template),
        root: layout.root.clone(),
        build_id,
        run_as: request.run_as,
        // A SIGTERM ends this command at once; the next run resumes the copy.
        interrupted: None,
    };
    let data = layout.host(&layout.data);
    let mut volume = Volume::open(&data, false)?;
    let class = classify::classify(volume.state(), classify::is_empty(&data)?, &image.build_id);
    let adopt = match class {
        Class::FirstRun => false,
        Class::InterruptedSeeding { adopted } => adopted,
        Class::Foreign if request.adopt => true,
        Class::Foreign => {
            crate::log::error(format_args!(
                "{} is not empty and was never seeded by bosun: refusing to seed it; \
                 use --adopt to copy only what is missing into it",
                data.display()
            ));
            return Ok(Exit::Failure);
        }
        other => {
            say(format_args!(
                "{} is already seeded ({other:?}): nothing to do",
                data.display()
            ));
            return Ok(Exit::Success);
        }
    };
    let report = populate::seed(&mut volume, &image, adopt, &mut report_progress("seeding"))?;
    report_warnings(&report.warnings);
    say(format_args!(
        "seeded {}: {}, {} already there",
        data.display(),
        report.summary(),
        report.existing
    ));
    Ok(Exit::Success)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Option<Request>, String> {
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        parse(&args, &|_| None)
    }

    #[test]
    fn seed_takes_the_settings_pid_1_takes() {
        // The data and template directories, and the owner from PUID/PGID as from BOSUN_RUN_AS
        // (what an initContainer seeding ahead of PID 1 must agree on).
        let env = |name: &str| match name {
            "BOSUN_DATA_DIR" => Some("/volume".to_owned()),
            "BOSUN_TEMPLATE_DIR" => Some("/tpl".to_owned()),
            "PUID" => Some("1001".to_owned()),
            _ => None,
        };
        let args: Vec<OsString> = ["seed"].iter().map(OsString::from).collect();
        let r = parse(&args, &env).unwrap().unwrap();
        assert_eq!(r.layout.data, PathBuf::from("/volume"));
        assert_eq!(r.layout.template, PathBuf::from("/tpl"));
        assert_eq!(r.run_as, Some((1001, 1001)));
        let env = |name: &str| (name == "BOSUN_RUN_AS").then(|| "5:6".to_owned());
        assert_eq!(parse(&args, &env).unwrap().unwrap().run_as, Some((5, 6)));
        // --run-as on the command line wins.
        let args: Vec<OsString> = ["seed", "--run-as", "7:8"]
            .iter()
            .map(OsString::from)
            .collect();
        assert_eq!(parse(&args, &env).unwrap().unwrap().run_as, Some((7, 8)));
    }

    #[test]
    fn grammar() {
        let r = run(&[
            "prepare",
            "--root",
            "/r",
            "--build-id=b1",
            "a.list",
            "--",
            "--odd.list",
        ])
        .unwrap()
        .unwrap();
        assert_eq!(r.layout.root, PathBuf::from("/r"));
        assert_eq!(r.build_id.as_deref(), Some("b1"));
        assert_eq!(
            r.lists,
            [PathBuf::from("a.list"), PathBuf::from("--odd.list")]
        );
        assert!(run(&["prepare"]).unwrap_err().contains("LIST"));
        assert!(
            run(&["check", "x"])
                .unwrap_err()
                .contains("unexpected argument")
        );
        assert!(
            run(&["check", "--adopt"])
                .unwrap_err()
                .contains("unknown option --adopt")
        );
        assert!(
            run(&["seed", "--adopt", "--data", "rel"])
                .unwrap_err()
                .contains("absolute")
        );
        assert!(run(&["nope"]).unwrap_err().contains("unknown command"));
        let r = run(&["link", "--root=/r", "--bosun", "/usr/local/bin/bosun"])
            .unwrap()
            .unwrap();
        assert_eq!(r.bosun, Some(PathBuf::from("/usr/local/bin/bosun")));
        assert_eq!(r.layout.root, PathBuf::from("/r"));
        assert!(
            run(&["link", "--bosun", "rel"])
                .unwrap_err()
                .contains("absolute")
        );
        assert!(
            run(&["link", "x"])
                .unwrap_err()
                .contains("unexpected argument")
        );
        assert!(
            run(&["seed", "--bosun", "/b"])
                .unwrap_err()
                .contains("unknown option")
        );
        assert!(run(&["--help"]).unwrap().is_none());
        let r = run(&["seed", "--run-as", "1000:100"]).unwrap().unwrap();
        assert_eq!(r.run_as, Some((1000, 100)));
        assert!(
            run(&["seed", "--run-as", "bob"])
                .unwrap_err()
                .contains("UID:GID")
        );
    }
}
