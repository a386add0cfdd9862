//! The settings read from bosun.yaml and the environment: keys, types, overrides, errors.

use super::*;

#[test]
fn durations() {
    assert_eq!(parse_duration("5").unwrap(), Duration::from_secs(5));
    assert_eq!(parse_duration("1min 30s").unwrap(), Duration::from_secs(90));
    assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
    assert_eq!(parse_duration("0").unwrap(), Duration::ZERO);
    assert!(parse_duration("5 parsecs").is_err());
    assert_eq!(parse_duration("infinity").unwrap(), Duration::MAX);
    assert!(parse_duration("").is_err());
}

#[test]
fn the_designs_example_reads_as_the_variables() {
    let file = File::parse(
        "# comment\n\
         data_dir: /srv/data\n\
         template_dir: /srv/template\n\
         run_as: \"1000:1000\"\n\
         stop_timeout: 10s\n\
         shutdown_timeout: infinity\n\
         hook_timeout: 1200\n\
         log: { prefix: false, format: json, ring: 64K, ring_total: 8M, persist: off, \
         persist_max: 1M }\n\
         systemd_compat: true\n\
         webdav:\n\
         \x20 realm: Dev\n\
         \x20 root: /opt/app-root/src\n\
         \x20 user: null\n\
         ready: { failed: any }\n",
    )
    .unwrap();
    assert_eq!(file.get("BOSUN_DATA_DIR"), Some("/srv/data"));
    assert_eq!(file.get("BOSUN_TEMPLATE_DIR"), Some("/srv/template"));
    assert_eq!(file.get("BOSUN_RUN_AS"), Some("1000:1000"));
    assert_eq!(file.get("BOSUN_STOP_TIMEOUT"), Some("10s"));
    assert_eq!(file.get("BOSUN_SHUTDOWN_TIMEOUT"), Some("infinity"));
    assert_eq!(file.get("BOSUN_HOOK_TIMEOUT"), Some("1200"));
    assert_eq!(file.get("BOSUN_LOG_PREFIX"), Some("0"));
    assert_eq!(file.get("BOSUN_LOG_FORMAT"), Some("json"));
    assert_eq!(file.get("BOSUN_LOG_RING"), Some("64K"));
    assert_eq!(file.get("BOSUN_LOG_RING_TOTAL"), Some("8M"));
    assert_eq!(file.get("BOSUN_LOG_PERSIST"), Some("off"));
    assert_eq!(file.get("BOSUN_LOG_PERSIST_MAX"), Some("1M"));
    assert_eq!(file.get("BOSUN_SYSTEMD_COMPAT"), Some("1"));
    assert_eq!(file.get("WEBDAV_AUTHENTICATION_REALM"), Some("Dev"));
    assert_eq!(file.get("BOSUN_WEBDAV_USER"), None);
    assert_eq!(file.get("BOSUN_HOOKS_DIR"), None);
    assert_eq!(file.get("BOSUN_READY_FAILED"), Some("any"));
    assert_eq!(File::parse("# only a comment\n").unwrap(), File::default());
}

#[test]
fn persist_is_auto_on_the_volume_off_or_a_directory() {
    let root = Path::new("/r");
    let volume = Some(Path::new("/r/data"));
    let dir = |text: &str, volume| Persist::parse(text).unwrap().dir(root, volume);
    assert_eq!(
        dir("auto", volume),
        Some(PathBuf::from("/r/data/.bosun/journal"))
    );
    // Negative control: auto without a volume bosun manages keeps nothing.
    assert_eq!(dir("auto", None), None);
    assert_eq!(dir("off", volume), None);
    assert_eq!(
        dir("/var/log/bosun", None),
        Some(PathBuf::from("/r/var/log/bosun"))
    );
    let env = |name: &str| match name {
        "BOSUN_LOG_PERSIST_MAX" => Some("1M".to_owned()),
        _ => None,
    };
    assert_eq!(persist(&env).unwrap(), (Persist::Auto, Some(1 << 20)));
    let bad = |name: &str| (name == "BOSUN_LOG_PERSIST").then(|| "logs".to_owned());
    assert!(
        persist(&bad)
            .unwrap_err()
            .starts_with("BOSUN_LOG_PERSIST=\"logs\"")
    );
}

#[test]
fn ready_failed_defaults_to_boot_and_refuses_other_words() {
    let setup = |value: Option<&str>| {
        let env = |name: &str| match name {
            "BOSUN_READY_FAILED" => value.map(str::to_owned),
            _ => None,
        };
        units(&env, Path::new("/"), Format::Prefixed, None)
    };
    let ready = |value| setup(value).unwrap().unwrap().ready_failed;
    assert_eq!(ready(None), ReadyFailed::Boot);
    assert_eq!(ready(Some("any")), ReadyFailed::Any);
    assert_eq!(ready(Some(" none ")), ReadyFailed::None);
    assert_eq!(ready(Some("boot")), ReadyFailed::Boot);
    let err = setup(Some("services")).unwrap_err();
    assert!(
        err.starts_with("BOSUN_READY_FAILED=\"services\"") && err.contains("any, boot or none"),
        "{err}"
    );
}

#[test]
fn mistakes_name_the_line_and_what_is_wrong() {
    for (text, line, says) in [
        ("data_dir: /data\nstop_timeout: 10x\n", 2, "10x"),
        ("data_dir: data\n", 1, "absolute path"),
        ("datadir: /data\n", 1, "unknown field `datadir`"),
        ("log:\n  format: xml\n", 2, "unknown variant `xml`"),
        ("units: maybe\n", 1, "invalid type"),
        ("run_as: bob\n", 1, "UID:GID"),
        (
            "webdav:\n  realm: x\n  port: 1\n",
            3,
            "unknown field `port`",
        ),
        ("verbosity: 9\n", 1, "0 to 3"),
        ("log:\n  ring: 16 MB\n", 2, "not a size"),
        ("ready:\n  failed: some\n", 2, "expected any, boot or none"),
        (
            "log:\n  persist: journal\n",
            2,
            "expected auto, off or an absolute",
        ),
    ] {
        let err = File::parse(text).unwrap_err();
        assert!(
            err.contains(says) && err.contains(&format!("line {line}")),
            "{text:?} gave {err:?}"
        );
    }
}

#[test]
fn a_missing_default_file_is_no_settings_but_a_missing_named_one_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(File::load(dir.path(), None).unwrap(), File::default());
    let named = dir.path().join("bosun.yaml");
    let err = File::load(dir.path(), Some(&named)).unwrap_err();
    assert!(
        err.contains("cannot read") && err.contains("bosun.yaml"),
        "{err}"
    );
    std::fs::create_dir_all(dir.path().join("etc/bosun")).unwrap();
    std::fs::write(dir.path().join(DEFAULT_PATH), "stop_timeout: soon\n").unwrap();
    let err = File::load(dir.path(), None).unwrap_err();
    assert!(
        err.starts_with(&dir.path().join(DEFAULT_PATH).display().to_string())
            && err.contains("line 1"),
        "{err}"
    );
}
