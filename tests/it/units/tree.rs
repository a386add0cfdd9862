//! The loader against a unit tree built in a temporary directory: drop-in order across
//! directories, masks, aliases, linked files, templates and instances, enablement links and
//! default.target.

// Helpers outside #[test] functions are test code too.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use bosun::unit::load::UnitFileKind;
use bosun::unit::{LoadState, LoadedUnit, Loader, SearchPath, SpecifierContext, UnitName};

/// A unit tree: /usr/lib has the vendor files, /etc overrides; drop-ins from every kind of
/// directory; masks, aliases, templates and enablement links.
fn build_tree(root: &Path) {
    let w = |p: &str, text: &str| {
        let path = root.join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    let link = |target: &str, p: &str| {
        let path = root.join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(target, path).unwrap();
    };
    w(
        "usr/lib/systemd/system/foo-bar-baz.service",
        "[Service]\nExecStart=/bin/vendor\nEnvironment=ORDER=vendor\n",
    );
    w(
        "usr/lib/systemd/system/foo-bar-baz.service.d/10-vendor.conf",
        "[Service]\nEnvironment=ORDER=10-usr\n",
    );
    w(
        "etc/systemd/system/foo-bar-baz.service.d/10-vendor.conf",
        "[Service]\nEnvironment=ORDER=10-etc\n",
    );
    w(
        "etc/systemd/system/foo-.service.d/20-prefix.conf",
        "[Service]\nEnvironment=ORDER=20-prefix\n",
    );
    w(
        "usr/lib/systemd/system/foo-bar-.service.d/30-prefix.conf",
        "[Service]\nEnvironment=ORDER=30-prefix\n",
    );
    w(
        "usr/lib/systemd/system/service.d/05-all.conf",
        "[Service]\nEnvironment=ORDER=05-all\n",
    );
    w(
        "run/systemd/system/foo-bar-baz.service.d/40-reset.conf",
        "[Service]\nExecStart=\nExecStart=/bin/override\n",
    );
    w(
        "usr/lib/systemd/system/foo-bar-baz.service.d/50-masked.conf",
        "[Service]\nEnvironment=ORDER=50-should-not-apply\n",
    );
    link(
        "/dev/null",
        "etc/systemd/system/foo-bar-baz.service.d/50-masked.conf",
    );
    w(
        "usr/lib/systemd/system/foo-bar-baz.service.d/not-a-dropin.txt",
        "garbage",
    );

    w(
        "usr/lib/systemd/system/tmpl@.service",
        "[Service]\nExecStart=/bin/t %i\n",
    );
    w(
        "usr/lib/systemd/system/tmpl@.service.d/10-template.conf",
        "[Service]\nEnvironment=T=template\n",
    );
    w(
        "etc/systemd/system/tmpl@two.service.d/20-instance.conf",
        "[Service]\nEnvironment=T=instance\n",
    );

    w(
        "usr/lib/systemd/system/real.service",
        "[Service]\nExecStart=/bin/real\n[Install]\nAlias=nick.service\n",
    );
    link("real.service", "etc/systemd/system/nick.service");
    w(
        "etc/systemd/system/nick.service.d/10-alias.conf",
        "[Unit]\nDescription=via alias\n",
    );
    link("/dev/null", "etc/systemd/system/masked.service");
    w(
        "usr/lib/systemd/system/masked.service",
        "[Service]\nExecStart=/bin/masked\n",
    );
    w("etc/systemd/system/empty.service", "");
    link(
        "/usr/lib/systemd/system/real.service",
        "etc/systemd/system/multi-user.target.wants/real.service",
    );
    link(
        "/usr/lib/systemd/system/tmpl@.service",
        "etc/systemd/system/multi-user.target.wants/tmpl@one.service",
    );
    link(
        "/usr/lib/systemd/system/foo-bar-baz.service",
        "etc/systemd/system/multi-user.target.requires/foo-bar-baz.service",
    );
    w(
        "usr/lib/systemd/system/multi-user.target",
        "[Unit]\nDescription=Multi-User System\n",
    );
    link("app.target", "etc/systemd/system/default.target");
    w("etc/systemd/system/app.target", "[Unit]\nDescription=App\n");
    w(
        "opt/linked/linked.service",
        "[Service]\nExecStart=/bin/linked\n",
    );
    link(
        "/opt/linked/linked.service",
        "etc/systemd/system/linked.service",
    );
}

fn env_of(l: &LoadedUnit) -> Vec<String> {
    l.unit
        .service()
        .unwrap()
        .exec
        .environment
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect()
}

#[test]
fn golden_loader_tree() {
    let root = std::env::temp_dir().join(format!("bosun-units-tree-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    build_tree(&root);
    let loader = Loader::new(SearchPath::system(&root), SpecifierContext::fixed());
    let r = |p: &str| root.join(p);

    // Drop-ins: sorted by file name across all directories, /etc beats /usr/lib for one
    // name, a /dev/null link masks, the type-wide service.d applies, non-.conf is skipped.
    let l = loader.load("foo-bar-baz.service").unwrap();
    let sources: Vec<PathBuf> = l.sources().map(Path::to_owned).collect();
    assert_eq!(
        sources,
        [
            r("usr/lib/systemd/system/foo-bar-baz.service"),
            r("usr/lib/systemd/system/service.d/05-all.conf"),
            r("etc/systemd/system/foo-bar-baz.service.d/10-vendor.conf"),
            r("etc/systemd/system/foo-.service.d/20-prefix.conf"),
            r("usr/lib/systemd/system/foo-bar-.service.d/30-prefix.conf"),
            r("run/systemd/system/foo-bar-baz.service.d/40-reset.conf"),
        ]
    );
    assert_eq!(
        env_of(&l),
        [
            "ORDER=vendor",
            "ORDER=05-all",
            "ORDER=10-etc",
            "ORDER=20-prefix",
            "ORDER=30-prefix"
        ]
    );
    let s = l.unit.service().unwrap();
    assert_eq!(s.exec_start.len(), 1);
    assert_eq!(s.exec_start[0].path, "/bin/override");

    // Templates: instances take the template's file and both drop-in directories.
    let one = loader.load("tmpl@one.service").unwrap();
    assert_eq!(
        one.fragment.as_deref(),
        Some(r("usr/lib/systemd/system/tmpl@.service").as_path())
    );
    assert_eq!(
        one.unit.service().unwrap().exec_start[0].argv,
        ["/bin/t", "one"]
    );
    assert_eq!(env_of(&one), ["ORDER=05-all", "T=template"]);
    let two = loader.load("tmpl@two.service").unwrap();
    assert_eq!(env_of(&two), ["ORDER=05-all", "T=template", "T=instance"]);

    // Aliases: the symlink's target names the unit; the alias's drop-ins apply too.
    let nick = loader.load("nick.service").unwrap();
    assert_eq!(nick.name.as_str(), "real.service");
    assert_eq!(nick.aliases[0].as_str(), "nick.service");
    assert_eq!(nick.unit.unit.description.as_deref(), Some("via alias"));
    assert_eq!(nick.unit.install.alias[0].as_str(), "nick.service");

    // Masks: a link to /dev/null in /etc hides the vendor file; an empty file masks too.
    let masked = loader.load("masked.service").unwrap();
    assert_eq!(masked.state, LoadState::Masked);
    assert_eq!(
        masked.masked_by.as_deref(),
        Some(r("etc/systemd/system/masked.service").as_path())
    );
    assert_eq!(
        loader.load("empty.service").unwrap().state,
        LoadState::Masked
    );

    // Linked unit files outside the search path.
    let linked = loader.load("linked.service").unwrap();
    assert_eq!(
        linked.fragment.as_deref(),
        Some(r("opt/linked/linked.service").as_path())
    );

    // Enablement links and the default target.
    let multi = loader.load("multi-user.target").unwrap();
    let wants: Vec<&str> = multi.wants.iter().map(UnitName::as_str).collect();
    assert_eq!(wants, ["real.service", "tmpl@one.service"]);
    assert_eq!(multi.requires[0].as_str(), "foo-bar-baz.service");
    assert_eq!(loader.default_target().as_str(), "app.target");

    let files = loader.unit_files().unwrap();
    let kind = |n: &str| {
        files
            .iter()
            .find(|f| f.name.as_str() == n)
            .map(|f| f.kind.clone())
    };
    assert_eq!(
        kind("nick.service"),
        Some(UnitFileKind::Alias(
            UnitName::parse("real.service").unwrap()
        ))
    );
    assert_eq!(kind("masked.service"), Some(UnitFileKind::Masked));
    assert_eq!(kind("real.service"), Some(UnitFileKind::Regular));
    assert!(matches!(
        kind("linked.service"),
        Some(UnitFileKind::Linked(_))
    ));

    let missing = loader.load("nope.service").unwrap_err().to_string();
    assert!(
        missing.starts_with("unit nope.service not found in "),
        "{missing}"
    );

    std::fs::remove_dir_all(&root).unwrap();
    let empty = Loader::new(SearchPath::system(&root), SpecifierContext::fixed());
    assert_eq!(empty.default_target().as_str(), "multi-user.target");
}
