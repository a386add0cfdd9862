use super::*;
use crate::control::proto::SyslogFields;

/// 2026-12-06 13:00:00.250 UTC.
const MS: u64 = 1_796_562_000_250;

fn ctx() -> Context {
    Context {
        hostname: "box".into(),
        boot_id: "0123456789abcdef0123456789abcdef".into(),
        machine_id: String::new(),
        // Booted ten seconds before the line.
        boot_realtime_us: (MS - 10_000) * 1000,
        ..Context::default()
    }
}

fn line(text: &str) -> LogLine {
    LogLine {
        seq: 7,
        unit: "web.service".into(),
        pid: 42,
        ms: MS,
        stderr: false,
        text: text.into(),
        raw: None,
        syslog: None,
        transport: "stdout".into(),
    }
}

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap()
}

#[test]
fn short_modes_as_journalctl_writes_them() {
    let mut c = ctx();
    let l = line("hello");
    let show = |c: &mut Context, m| text(c.render(&l, m));
    assert_eq!(
        show(&mut c, Mode::Short),
        "Dec 06 13:00:00 box web[42]: hello\n"
    );
    assert_eq!(
        show(&mut c, Mode::ShortPrecise),
        "Dec 06 13:00:00.250000 box web[42]: hello\n"
    );
    assert_eq!(
        show(&mut c, Mode::ShortIso),
        "2026-12-06T13:00:00+0000 box web[42]: hello\n"
    );
    assert_eq!(
        show(&mut c, Mode::ShortIsoPrecise),
        "2026-12-06T13:00:00.250000+0000 box web[42]: hello\n"
    );
    assert_eq!(
        show(&mut c, Mode::ShortFull),
        "Sun 2026-12-06 13:00:00 UTC box web[42]: hello\n"
    );
    assert_eq!(
        show(&mut c, Mode::WithUnit),
        "Sun 2026-12-06 13:00:00 UTC box web.service web[42]: hello\n"
    );
    assert_eq!(
        show(&mut c, Mode::ShortUnix),
        "1796562000.250000 box web[42]: hello\n"
    );
    assert_eq!(
        show(&mut c, Mode::ShortMonotonic),
        "[   10.000000] box web[42]: hello\n"
    );
    assert_eq!(show(&mut c, Mode::Cat), "hello\n");
    c.no_hostname = true;
    assert_eq!(
        show(&mut c, Mode::Short),
        "Dec 06 13:00:00 web[42]: hello\n"
    );
}

#[test]
fn syslog_identifiers_and_blobs() {
    let mut c = ctx();
    let mut l = line("accepted");
    l.syslog = Some(SyslogFields {
        priority: 3,
        facility: 4,
        identifier: Some("sshd".into()),
        fields: vec![("CODE_FILE".into(), "auth.c".into())],
    });
    l.transport = "syslog".into();
    assert_eq!(
        text(c.render(&l, Mode::Short)),
        "Dec 06 13:00:00 box sshd[42]: accepted\n"
    );
    // A native entry's own fields are the line's fields in JSON.
    assert!(text(c.render(&l, Mode::Json)).contains(r#""CODE_FILE":"auth.c""#));
    let l = line("\u{1b}]0;owned\u{7}");
    assert_eq!(
        text(c.render(&l, Mode::Short)),
        "Dec 06 13:00:00 box web[42]: [10B blob data]\n"
    );
    // cat writes the message as it is, as journalctl's does.
    assert_eq!(c.render(&l, Mode::Cat), b"\x1b]0;owned\x07\n");
    c.all = true;
    assert!(c.render(&l, Mode::Short).ends_with(b": \x1b]0;owned\x07\n"));
    // On a terminal, the message is colored by its priority (errors red), info is plain.
    let mut c = ctx();
    c.color = true;
    let mut err = line("failed");
    err.syslog = Some(SyslogFields {
        priority: 3,
        facility: 3,
        identifier: None,
        fields: Vec::new(),
    });
    assert!(text(c.render(&err, Mode::Short)).ends_with(": \x1b[0;1;31mfailed\x1b[0m\n"));
    assert!(text(c.render(&line("fine"), Mode::Short)).ends_with(": fine\n"));
    // Several printable lines continue under the first.
    let l = line("one\ntwo");
    assert_eq!(
        text(ctx().render(&l, Mode::Short)),
        "Dec 06 13:00:00 box web[42]: one\n                             two\n"
    );
}

#[test]
fn json_carries_journald_field_names() {
    let mut c = ctx();
    let out = text(c.render(&line("hi"), Mode::Json));
    assert!(
        out.ends_with("}\n") && out.matches('\n').count() == 1,
        "{out}"
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["MESSAGE"], "hi");
    assert_eq!(v["PRIORITY"], "6");
    assert_eq!(v["SYSLOG_FACILITY"], "3");
    assert_eq!(v["SYSLOG_IDENTIFIER"], "web");
    assert_eq!(v["_PID"], "42");
    assert_eq!(v["_SYSTEMD_UNIT"], "web.service");
    assert_eq!(v["_TRANSPORT"], "stdout");
    assert_eq!(v["_BOOT_ID"], "0123456789abcdef0123456789abcdef");
    assert_eq!(v["_HOSTNAME"], "box");
    assert_eq!(v["__REALTIME_TIMESTAMP"], "1796562000250000");
    assert_eq!(v["__MONOTONIC_TIMESTAMP"], "10000000");
    assert!(v["__CURSOR"].as_str().unwrap().contains(";i=7;"));
    // Not printable: an array of bytes. Too long: null unless --all.
    let v: serde_json::Value =
        serde_json::from_slice(&c.render(&line("\u{7}"), Mode::Json)).unwrap();
    assert_eq!(v["MESSAGE"], serde_json::json!([7]));
    let long = "x".repeat(5000);
    let v: serde_json::Value = serde_json::from_slice(&c.render(&line(&long), Mode::Json)).unwrap();
    assert!(v["MESSAGE"].is_null());
    c.all = true;
    let v: serde_json::Value = serde_json::from_slice(&c.render(&line(&long), Mode::Json)).unwrap();
    assert_eq!(v["MESSAGE"].as_str().map(str::len), Some(5000));
    // --output-fields keeps the named fields and the cursor, timestamps and boot ID.
    c.fields = Some(vec!["MESSAGE".into()]);
    let v: serde_json::Value = serde_json::from_slice(&c.render(&line("hi"), Mode::Json)).unwrap();
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 5, "{keys:?}");
    assert!(v["_PID"].is_null() && v["MESSAGE"] == "hi");
    let pretty = text(ctx().render(&line("hi"), Mode::JsonPretty));
    assert!(
        pretty.starts_with("{\n        \"__CURSOR\" : \"s="),
        "{pretty}"
    );
    serde_json::from_str::<serde_json::Value>(&pretty).unwrap();
    assert!(text(ctx().render(&line("hi"), Mode::JsonSse)).starts_with("data: {"));
    assert!(text(ctx().render(&line("hi"), Mode::JsonSeq)).starts_with('\u{1e}'));
}

#[test]
fn verbose_and_export() {
    let out = text(ctx().render(&line("hi"), Mode::Verbose));
    let mut lines = out.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("Sun 2026-12-06 13:00:00.250000 UTC [s=0123"),
        "{out}"
    );
    assert!(out.contains("\n    MESSAGE=hi\n") && out.contains("\n    _PID=42\n"));
    let out = ctx().render(&line("a\u{7}"), Mode::Export);
    let text = String::from_utf8_lossy(&out);
    assert!(text.starts_with("__CURSOR=s="), "{text}");
    assert!(text.contains("\n_TRANSPORT=stdout\n"));
    // A binary field: its name, a newline, the length as 64-bit little endian, the bytes.
    let binary = b"\nMESSAGE\n\x02\x00\x00\x00\x00\x00\x00\x00a\x07\n";
    assert!(out.windows(binary.len()).any(|w| w == binary), "{text}");
    assert!(out.ends_with(b"\n\n"));
}
