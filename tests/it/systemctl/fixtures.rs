//! The unit trees and command lists the offline systemctl is compared on. Each command runs
//! in order on the same tree, so later commands see what earlier ones did.

use super::Entry;

fn file(path: &str, text: &str) -> Entry {
    Entry::File(path.to_owned(), text.to_owned())
}

fn link(path: &str, target: &str) -> Entry {
    Entry::Link(path.to_owned(), target.to_owned())
}

/// A service in /lib/systemd/system with this `[Install]` section.
fn svc(name: &str, install: &str) -> Entry {
    file(
        &format!("lib/systemd/system/{name}"),
        &format!(
            "[Unit]\nDescription={name}\n[Service]\nExecStart=/bin/true\n[Install]\n{install}"
        ),
    )
}

fn target(name: &str) -> Entry {
    file(
        &format!("lib/systemd/system/{name}"),
        "[Unit]\nDescription=target\n",
    )
}

/// Enabled/disabled/static/masked/alias/template/DefaultInstance/Also/RequiredBy/not-found.
pub fn basic() -> Vec<Entry> {
    vec![
        svc(
            "a.service",
            "WantedBy=multi-user.target\nAlias=aa.service\nAlso=b.service\n",
        ),
        svc("b.service", "RequiredBy=c.target\n"),
        file(
            "lib/systemd/system/s.service",
            "[Service]\nExecStart=/bin/true\n",
        ),
        svc(
            "t@.service",
            "WantedBy=multi-user.target\nDefaultInstance=one\n",
        ),
        svc("u@.service", "WantedBy=multi-user.target\n"),
        target("multi-user.target"),
        target("graphical.target"),
        Entry::Dir("etc/systemd/system".to_owned()),
    ]
}

pub const BASIC_COMMANDS: &[&str] = &[
    "list-unit-files",
    "enable a",
    "enable a",
    "is-enabled a aa b s t@ t@x u@ u@y",
    "is-enabled a nope s",
    "enable s",
    "-q enable s",
    "enable nope",
    "disable a",
    "disable a",
    "enable t@",
    "enable u@",
    "enable u@y t@z",
    "is-enabled t@ t@one t@z u@ u@y u@q",
    "list-unit-files",
    "get-default",
    "set-default multi-user",
    "get-default",
    "set-default graphical.target",
    "set-default graphical",
    "set-default nope",
    "set-default a.service",
    "get-default",
    "mask a",
    "mask a",
    "is-enabled a",
    "enable a",
    "disable a",
    "unmask a",
    "unmask a",
    "reenable a",
    "reenable a",
    "enable 'bad name'",
    "enable 'a*'",
    "is-enabled w.bogus",
    "-q is-enabled a b",
    "--quiet is-enabled s u@q",
    "disable a t@ u@",
    "enable --runtime a",
    "is-enabled a",
    "disable a",
    "disable --runtime a",
    "mask --runtime b",
    "is-enabled b",
    "list-unit-files --state=masked-runtime",
    "unmask b",
    "unmask --runtime b",
    "list-unit-files --no-legend -t service",
    "list-unit-files -t target,socket",
    "list-unit-files 'zz*'",
    "list-unit-files 'a*' t@.service",
    "list-unit-files --legend=no --state=static,disabled",
    "-q list-unit-files",
    "preset a b s t@ u@",
    "list-unit-files",
    "enable /lib/systemd/system/a.service",
    "disable /lib/systemd/system/a.service",
];

/// Every unit file state: generated, transient, masked (link, empty file, runtime), linked,
/// alias, dangling links, enabled-runtime, indirect, static.
pub fn states() -> Vec<Entry> {
    vec![
        svc("w.service", "WantedBy=multi-user.target\n"),
        svc("x.service", "WantedBy=multi-user.target\n"),
        svc("y.service", "WantedBy=multi-user.target\n"),
        file(
            "usr/lib/systemd/system/w.service",
            "[Service]\nExecStart=/bin/false\n",
        ),
        file(
            "usr/lib/systemd/system/onlyusr.service",
            "[Service]\nExecStart=/bin/true\n",
        ),
        file(
            "run/systemd/generator/gen.service",
            "[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n",
        ),
        file(
            "run/systemd/generator.late/genl.service",
            "[Service]\nExecStart=/bin/true\n",
        ),
        file(
            "run/systemd/transient/tr.service",
            "[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n",
        ),
        link("etc/systemd/system/m.service", "/dev/null"),
        link("run/systemd/system/mr.service", "/dev/null"),
        file("etc/systemd/system/empty.service", ""),
        link(
            "run/systemd/system/multi-user.target.wants/x.service",
            "/lib/systemd/system/x.service",
        ),
        file(
            "lk.service",
            "[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n",
        ),
        link("etc/systemd/system/lk.service", "/lk.service"),
        link("lib/systemd/system/lkv.service", "/lk.service"),
        link(
            "etc/systemd/system/yalias.service",
            "/lib/systemd/system/y.service",
        ),
        link(
            "lib/systemd/system/multi-user.target.wants/y.service",
            "../y.service",
        ),
        link("etc/systemd/system/dang.service", "/nowhere/d.service"),
        link(
            "etc/systemd/system/dang2.service",
            "/lib/systemd/system/missing.service",
        ),
        link("etc/systemd/system/dang3.service", "/nowhere/dang3.service"),
        link("lib/systemd/system/dang4.service", "/nowhere/dang4.service"),
    ]
}

pub const STATES_COMMANDS: &[&str] = &[
    "list-unit-files",
    "is-enabled w x y gen genl tr m mr empty lk lkv yalias onlyusr",
    "is-enabled dang",
    "is-enabled dang2",
    "is-enabled dang3",
    "is-enabled dang4",
    "list-unit-files --state=bad,masked,linked",
    "enable dang",
    "disable dang",
    "enable dang2",
    "disable dang2",
    "disable dang3",
    "disable dang4",
    "enable lkv",
    "disable lkv",
    "enable gen",
    "enable tr",
    "enable m",
    "disable m",
    "enable lk",
    "is-enabled lk",
    "disable lk",
    "enable yalias",
    "disable yalias",
    "mask w",
    "mask --force empty",
    "unmask empty m mr",
    "unmask --runtime mr",
    "list-unit-files",
];

/// Preset files in three directories, with globs, instance lists and a bad line.
pub fn presets() -> Vec<Entry> {
    let mut e = vec![
        svc("on.service", "WantedBy=multi-user.target\n"),
        svc("off.service", "WantedBy=multi-user.target\n"),
        svc("offtoo.service", "WantedBy=multi-user.target\n"),
        svc("def.service", "WantedBy=multi-user.target\n"),
        svc("later.service", "WantedBy=multi-user.target\n"),
        svc(
            "tpl@.service",
            "WantedBy=multi-user.target\nDefaultInstance=d\n",
        ),
        target("multi-user.target"),
        target("graphical.target"),
        file(
            "lib/systemd/system-preset/50-x.preset",
            "# comment\nenable on.service\ndisable off*\n\nenable tpl@.service a b\nbogus line\n",
        ),
        file(
            "usr/lib/systemd/system-preset/60-y.preset",
            "; another comment\ndisable def.service\ndisable later.service\n",
        ),
        file(
            "etc/systemd/system-preset/10-local.preset",
            "enable later.service\n",
        ),
    ];
    // A preset file of the same name in /etc replaces the vendor's.
    e.push(file(
        "usr/lib/systemd/system-preset/99-default.preset",
        "disable *\n",
    ));
    e.push(link(
        "etc/systemd/system-preset/99-default.preset",
        "/dev/null",
    ));
    e
}

pub const PRESETS_COMMANDS: &[&str] = &[
    "list-unit-files",
    "preset on off offtoo def later tpl@ tpl@x tpl@a",
    "list-unit-files",
    "enable off",
    "preset off",
    "enable off",
    "preset --preset-mode=enable-only off on",
    "preset --preset-mode=disable-only on off",
    "disable on",
    "preset --preset-mode=disable-only on",
    "preset on",
    "mask on",
    "preset on",
    "preset nope",
    "is-enabled on off def later tpl@",
];

/// preset-all in each mode, from the links a first preset-all left or an enable changed;
/// on the other fixtures too, which hold masked, aliased, linked, static and bad units.
pub const PRESET_ALL_COMMANDS: &[&str] = &[
    "preset-all --preset-mode=disable-only",
    "list-unit-files",
    "enable off def",
    "preset-all --preset-mode=disable-only",
    "list-unit-files",
    "preset-all --preset-mode=enable-only",
    "list-unit-files",
    "enable off",
    "preset-all",
    "list-unit-files",
    "mask on",
    "preset-all --preset-mode=full",
    "unmask on",
    "--runtime preset-all",
    "preset-all extra",
    "preset-all --preset-mode=bogus",
    "list-unit-files",
];

/// Templates aliased per instance, Also= on a static unit, aliases of aliases, a linked
/// unit file outside the search path, enabling by path.
pub fn templates() -> Vec<Entry> {
    vec![
        target("multi-user.target"),
        target("sockets.target"),
        svc(
            "t@.service",
            "WantedBy=multi-user.target\nAlias=ta@.service\nRequiredBy=sockets.target\n",
        ),
        file(
            "lib/systemd/system/x.service",
            "[Service]\nExecStart=/bin/true\n[Install]\nAlso=x.socket\n",
        ),
        file(
            "lib/systemd/system/x.socket",
            "[Socket]\nListenStream=1\n[Install]\nWantedBy=sockets.target\n",
        ),
        svc(
            "a.service",
            "WantedBy=multi-user.target\nAlias=al.service al2.service\n",
        ),
        file(
            "opt/ext.service",
            "[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n",
        ),
        file("opt/noinstall.service", "[Service]\nExecStart=/bin/true\n"),
        file("opt/not a unit", "x"),
    ]
}

pub const TEMPLATES_COMMANDS: &[&str] = &[
    "enable t@i",
    "is-enabled t@i t@ ta@i",
    "is-enabled ta@",
    "enable x",
    "is-enabled x x.socket",
    "enable al",
    "is-enabled a al al2",
    "disable al2",
    "enable a",
    "enable al",
    "disable al",
    "reenable al",
    "enable /opt/ext.service",
    "is-enabled ext",
    "list-unit-files",
    "disable ext",
    "disable /opt/ext.service",
    "enable /opt/noinstall.service",
    "is-enabled noinstall",
    "enable '/opt/not a unit'",
    "enable /var/lib/x",
    "disable t@i x",
    "-q enable multi-user.target",
    "enable multi-user.target sockets.target",
    "enable t@",
    "enable a t@",
    "list-unit-files",
];

/// Debian 12 with merged /usr: /lib is a link to usr/lib.
pub fn merged_usr() -> Vec<Entry> {
    vec![
        file(
            "usr/lib/systemd/system/a.service",
            "[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\nAlias=aa.service\nAlso=b.service\n",
        ),
        file(
            "usr/lib/systemd/system/multi-user.target",
            "[Unit]\nDescription=MU\n",
        ),
        link("lib", "usr/lib"),
        link("bin", "usr/bin"),
        Entry::Dir("etc".to_owned()),
    ]
}

pub const MERGED_USR_COMMANDS: &[&str] = &[
    "enable a",
    "list-unit-files",
    "is-enabled a aa",
    "get-default",
    "set-default multi-user",
    "get-default",
    "disable a",
    "mask aa",
    "is-enabled a aa",
];

/// Specifiers, resets, drop-ins, masked Also= units, legacy and invalid aliases, template
/// mismatches, unknown keys, masked default instances, shadowed files, vendor-enabled
/// instances, conflicting links.
pub fn edges() -> Vec<Entry> {
    vec![
        target("multi-user.target"),
        target("foo@.target"),
        svc(
            "spec@.service",
            "WantedBy=multi-user.target\nAlias=alias-%i.service\nRequiredBy=foo@%i.target\n",
        ),
        svc(
            "spec3.service",
            "WantedBy=%p-x.target\nAlias=%N-al.service\n",
        ),
        svc(
            "reset.service",
            "WantedBy=multi-user.target\nWantedBy=\nRequiredBy=multi-user.target\n",
        ),
        svc("dropped.service", "WantedBy=multi-user.target\n"),
        file(
            "lib/systemd/system/dropped.service.d/10-a.conf",
            "[Install]\nAlias=dropalias.service\n",
        ),
        svc("dropin2.service", "WantedBy=multi-user.target\n"),
        file(
            "etc/systemd/system/dropin2.service.d/override.conf",
            "[Install]\nWantedBy=\nRequiredBy=multi-user.target\n",
        ),
        svc(
            "alsomasked.service",
            "WantedBy=multi-user.target\nAlso=maskedone.service missing.service\n",
        ),
        svc("maskedone.service", "WantedBy=multi-user.target\n"),
        svc(
            "legacy.service",
            "Alias=multi-user.target.wants/legacy.service\n",
        ),
        svc(
            "legacybad.service",
            "Alias=foo.target.bogus/legacybad.service\n",
        ),
        svc(
            "badalias.service",
            "Alias=other.socket\nWantedBy=multi-user.target\n",
        ),
        svc("selfalias.service", "Alias=selfalias.service\n"),
        svc("badname.service", "WantedBy=bad/name\n"),
        svc("badspec.service", "WantedBy=%Z.target multi-user.target\n"),
        svc(
            "badspec2.service",
            "WantedBy=multi-user.target\nAlias=%Z.service\n",
        ),
        svc(
            "tmplreq@.service",
            "RequiredBy=foo@.target\nDefaultInstance=x\n",
        ),
        svc("tmplwant@.service", "WantedBy=foo@.target\n"),
        svc(
            "unknownkey.service",
            "WantedBy=multi-user.target\nFooBar=1\nX-Ours=2\n",
        ),
        svc(
            "dimasked@.service",
            "WantedBy=multi-user.target\nDefaultInstance=m\n",
        ),
        svc("onlylib.service", "WantedBy=multi-user.target\n"),
        file(
            "usr/lib/systemd/system/onlylib.service",
            "[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=other.target\n",
        ),
        file(
            "lib/systemd/system/inst@.service",
            "[Service]\nExecStart=/bin/true\n",
        ),
        link(
            "lib/systemd/system/multi-user.target.wants/inst@vendor.service",
            "../inst@.service",
        ),
        svc(
            "twoalias.service",
            "Alias=ta1.service ta2.service\nWantedBy=multi-user.target\n",
        ),
        svc("twowants.service", "WantedBy=a.target b.target\n"),
        file("etc/systemd/system/b.target.wants/twowants.service", "x"),
        file("etc/systemd/system/ta2.service", "x"),
        link(
            "etc/systemd/system/dropped.service",
            "/lib/systemd/system/dropped.service",
        ),
        link("etc/systemd/system/maskedone.service", "/dev/null"),
        link("etc/systemd/system/dimasked@m.service", "/dev/null"),
        file("etc/systemd/system/regular.service", "x"),
        file(
            "lib/systemd/system/sock.socket",
            "[Socket]\nListenStream=2\n[Install]\nWantedBy=sockets.target\nAlias=sockalias.socket\n",
        ),
        file(
            "lib/systemd/system/m.mount",
            "[Mount]\nWhat=x\nWhere=/m\n[Install]\nWantedBy=multi-user.target\nAlias=malias.mount\n",
        ),
    ]
}

pub const EDGES_COMMANDS: &[&str] = &[
    "list-unit-files",
    "enable spec@i",
    "is-enabled spec@i alias-i spec@",
    "disable spec@i",
    "enable spec3",
    "disable spec3",
    "enable reset",
    "enable dropped",
    "is-enabled dropped",
    "disable dropped",
    "enable dropin2",
    "is-enabled dropin2",
    "enable alsomasked",
    "disable alsomasked",
    "enable legacy",
    "is-enabled legacy",
    "disable legacy",
    "enable legacybad",
    "enable badalias",
    "enable selfalias",
    "enable badname",
    "enable badspec",
    "enable badspec2",
    "enable tmplreq@",
    "enable tmplreq@y",
    "enable tmplwant@",
    "enable tmplwant@z",
    "enable unknownkey",
    "enable dimasked@",
    "enable onlylib",
    "is-enabled inst@vendor inst@ inst@other",
    "enable twoalias",
    "enable twowants",
    "enable sock.socket",
    "is-enabled sockalias.socket",
    "enable m.mount",
    "mask regular",
    "mask --force regular",
    "is-enabled regular",
    "enable --force spec@i",
    "list-unit-files",
    "preset twoalias spec@i legacy onlylib dimasked@ tmplreq@ reset",
];

/// A unit linked to itself by name, a local unit in /etc, an alias taken by another unit,
/// relative links.
pub fn conflicts() -> Vec<Entry> {
    vec![
        target("multi-user.target"),
        svc("same.service", "WantedBy=multi-user.target\n"),
        link(
            "etc/systemd/system/same.service",
            "/lib/systemd/system/same.service",
        ),
        file(
            "etc/systemd/system/local.service",
            "[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\nAlias=localalias.service\n",
        ),
        svc(
            "conflict.service",
            "WantedBy=multi-user.target\nAlias=taken.service\n",
        ),
        svc("other.service", "WantedBy=multi-user.target\n"),
        link(
            "etc/systemd/system/taken.service",
            "/lib/systemd/system/other.service",
        ),
        link(
            "etc/systemd/system/multi-user.target.wants/other.service",
            "../../../../lib/systemd/system/other.service",
        ),
    ]
}

pub const CONFLICTS_COMMANDS: &[&str] = &[
    "list-unit-files",
    "is-enabled same local conflict other taken",
    "enable same",
    "disable same",
    "enable local",
    "is-enabled local localalias",
    "disable localalias",
    "enable conflict",
    "enable --force conflict",
    "is-enabled other taken conflict",
    "disable other",
    "mask taken",
    "mask --force taken",
    "unmask taken",
    "disable conflict",
    "list-unit-files",
];

/// Command lines systemctl refuses, and how.
pub const ERROR_COMMANDS: &[&str] = &[
    "frob",
    "enable",
    "is-enabled",
    "mask",
    "set-default",
    "set-default a b",
    "get-default x",
    "--frob",
    "--frob=1 enable a",
    "-Z",
    "--signal",
    "-s",
    "--quiet=1 list-unit-files",
    "--no list-unit-files",
    "--state list-unit-files",
    "--state= list-unit-files",
    "-t '' list-unit-files",
    "list-unit-files --type=bogus",
    "list-unit-files -t help",
    "-t service,masked list-unit-files",
    "--legend=maybe list-unit-files",
    "-n x enable a",
    "-o bogus enable a",
    "-o help",
    "--signal=FOO enable a",
    "--preset-mode=x preset a",
    "--preset-mode=help",
    "--wait --no-block list-unit-files",
    "--state=help",
    "list-unit-files -- --no-legend",
    "--no-leg list-unit-files",
    "enable a --runt --qu",
    "is-enabled -qa",
    "-qa is-enabled s",
];
