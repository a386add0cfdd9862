//! A passwd entry for an arbitrary UID. OpenShift runs a container as a random UID with GID 0,
//! which has no line in the image's `/etc/passwd`; programs that look their user up (ssh, git,
//! Python's getpass, PostgreSQL's initdb) then fail. Images make `/etc/passwd` group-writable
//! for this, and bosun adds the missing line at boot, as the OpenShift guidelines describe.
//!
//! Owns [`entry_for`] (pure: the line to add, if any) and [`ensure_entry`] (the append). Must
//! not rewrite or reorder existing lines: it only appends, in one write, to the file as it is
//! (`/etc` itself is usually not writable, so no temporary file and rename).

use std::fs;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;

/// The name given to the arbitrary UID, unless the image already uses it for another UID
/// (then `bosun-UID`). `default` is what OpenShift's builder images call their user.
pub const NAME: &str = "default";

/// The line to append to `passwd` (its current text) for `uid`/`gid`, None when `uid` already
/// has an entry.
pub fn entry_for(passwd: &str, uid: u32, gid: u32, home: &Path) -> Option<String> {
    let mut names = Vec::new();
    for line in passwd.lines() {
        let mut fields = line.split(':');
        let name = fields.next().unwrap_or_default();
        if fields.nth(1).and_then(|f| f.parse::<u32>().ok()) == Some(uid) {
            return None;
        }
        names.push(name);
    }
    let name = if names.contains(&NAME) {
        format!("bosun-{uid}")
    } else {
        NAME.to_owned()
    };
    Some(format!(
        "{name}:x:{uid}:{gid}:user added by bosun for an arbitrary UID:{}:/bin/sh\n",
        home.display()
    ))
}

/// What [`ensure_entry`] did.
#[derive(Debug)]
pub enum Outcome {
    /// The UID has an entry (or there is no passwd file at all, as in a `FROM scratch` image).
    Present,
    /// This line was appended.
    Added(String),
    /// The UID has no entry and the file cannot be written.
    NotWritable(io::Error),
}

/// Give the current UID an entry in `ROOT/etc/passwd` when it has none and the file is writable.
/// `home` is the home directory recorded (the data volume when there is one).
pub fn ensure_entry(root: &Path, home: &Path) -> Outcome {
    let uid = nix::unistd::getuid().as_raw();
    let gid = nix::unistd::getgid().as_raw();
    let path = root.join("etc/passwd");
    let mut file = match fs::File::options().read(true).append(true).open(&path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Outcome::Present,
        Err(e) => {
            // Not writable: still say nothing when the UID is known.
            let text = fs::read_to_string(&path).unwrap_or_default();
            return match entry_for(&text, uid, gid, home) {
                None => Outcome::Present,
                Some(_) => Outcome::NotWritable(e),
            };
        }
    };
    let mut text = String::new();
    if let Err(e) = file.read_to_string(&mut text) {
        return Outcome::NotWritable(e);
    }
    let Some(mut line) = entry_for(&text, uid, gid, home) else {
        return Outcome::Present;
    };
    if !text.is_empty() && !text.ends_with('\n') {
        line.insert(0, '\n');
    }
    // O_APPEND: the one write lands at the end even if the file changed since it was read.
    let written = file
        .seek(SeekFrom::End(0))
        .and_then(|_| file.write_all(line.as_bytes()));
    match written {
        Ok(()) => Outcome::Added(line.trim().to_owned()),
        Err(e) => Outcome::NotWritable(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines() {
        let passwd = "root:x:0:0:root:/root:/bin/bash\napp:x:1001:0::/app:/bin/sh\n";
        assert_eq!(entry_for(passwd, 0, 0, Path::new("/")), None);
        assert_eq!(entry_for(passwd, 1001, 0, Path::new("/")), None);
        assert_eq!(
            entry_for(passwd, 1000650000, 0, Path::new("/data")).as_deref(),
            Some("default:x:1000650000:0:user added by bosun for an arbitrary UID:/data:/bin/sh\n")
        );
        let taken = "default:x:1001:0::/:/bin/sh\n";
        assert!(
            entry_for(taken, 1000650000, 0, Path::new("/"))
                .unwrap()
                .starts_with("bosun-1000650000:x:1000650000:0:")
        );
        // Comments and short lines are not entries.
        assert!(entry_for("# 5\nbroken\n", 5, 5, Path::new("/")).is_some());
    }
}
