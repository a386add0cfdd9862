//! Dead properties (PROPPATCH): stored per resource in `user.dav.*` extended attributes, or,
//! where the filesystem refuses user xattrs, in a hidden per-directory file
//! ([`FALLBACK_STORE`], never listed or served) keyed by entry name. Values are the property
//! element serialised by [`super::xml::Element::to_xml`]. Changes are all-or-nothing.

use std::collections::BTreeMap;
use std::sync::Mutex;

use std::os::fd::OwnedFd;

use nix::errno::Errno;
use nix::fcntl::{OFlag, openat};
use nix::sys::stat::Mode;
use sha2::{Digest, Sha256};
use xattr::FileExt;

use super::fs::{FsError, Root, read_small, write_small};
use super::path::DavPath;

/// The xattr namespace bosun uses for dead properties.
pub const XATTR_PREFIX: &str = "user.dav.";
/// The hidden per-directory file that stores dead properties where xattrs are unavailable.
pub const FALLBACK_STORE: &str = ".bosun-davprops";

/// One dead property.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadProp {
    pub ns: String,
    pub name: String,
    /// The whole property element as self-contained XML.
    pub xml: String,
}

/// One PROPPATCH instruction, in document order.
#[derive(Debug, Clone)]
pub enum Change {
    Set(DeadProp),
    Remove { ns: String, name: String },
}

type Key = (String, String);

/// The dead-property store. Serialises fallback-store updates.
#[derive(Debug, Default)]
pub struct Props {
    fallback: Mutex<()>,
}

fn xattr_name(ns: &str, name: &str) -> String {
    let digest = Sha256::digest(format!("{ns}\0{name}").as_bytes());
    format!("{XATTR_PREFIX}{}", super::digest::hex(&digest[..20]))
}

fn encode(p: &DeadProp) -> Vec<u8> {
    format!("{}\0{}\0{}", p.ns, p.name, p.xml).into_bytes()
}

fn decode(raw: &[u8]) -> Option<DeadProp> {
    let text = std::str::from_utf8(raw).ok()?;
    let mut parts = text.splitn(3, '\0');
    Some(DeadProp {
        ns: parts.next()?.to_owned(),
        name: parts.next()?.to_owned(),
        xml: parts.next()?.to_owned(),
    })
}

fn read_xattrs(file: &std::fs::File) -> BTreeMap<Key, String> {
    let mut found = BTreeMap::new();
    if let Ok(names) = file.list_xattr() {
        for name in names {
            if !name.to_str().is_some_and(|n| n.starts_with(XATTR_PREFIX)) {
                continue;
            }
            if let Ok(Some(raw)) = file.get_xattr(&name)
                && let Some(prop) = decode(&raw)
            {
                found.insert((prop.ns, prop.name), prop.xml);
            }
        }
    }
    found
}

fn into_props(found: BTreeMap<Key, String>) -> Vec<DeadProp> {
    found
        .into_iter()
        .map(|((ns, name), xml)| DeadProp { ns, name, xml })
        .collect()
}

fn unsupported(e: &std::io::Error) -> bool {
    matches!(
        e.raw_os_error().map(Errno::from_raw),
        Some(Errno::EOPNOTSUPP | Errno::EPERM | Errno::EACCES)
    )
}

/// The fallback store of one directory: entry name → properties.
pub type Store = BTreeMap<String, BTreeMap<Key, String>>;

fn parse_store(raw: &[u8]) -> Store {
    let mut store = Store::new();
    let text = String::from_utf8_lossy(raw);
    let fields: Vec<&str> = text.split('\0').collect();
    for record in fields.chunks_exact(4) {
        store.entry(record[0].to_owned()).or_default().insert(
            (record[1].to_owned(), record[2].to_owned()),
            record[3].to_owned(),
        );
    }
    store
}

fn render_store(store: &Store) -> Vec<u8> {
    let mut out = String::new();
    for (entry, props) in store {
        for ((ns, name), xml) in props {
            for field in [entry.as_str(), ns, name, xml] {
                out.push_str(field);
                out.push('\0');
            }
        }
    }
    out.into_bytes()
}

impl Props {
    /// Where `p`'s fallback record lives: its parent directory and the entry name (`.` for the
    /// root, inside the root itself).
    fn slot(root: &Root, p: &DavPath) -> Result<(DavPath, String), FsError> {
        let real = root.resolve_final(p)?;
        match (real.parent(), real.name()) {
            (Some(parent), Some(name)) => Ok((parent, name.to_owned())),
            _ => Ok((DavPath::root(), ".".to_owned())),
        }
    }

    fn load_store(root: &Root, dir: &DavPath) -> Result<Store, FsError> {
        let fd = root.open_for_attrs(dir)?;
        let raw = read_small(&fd, FALLBACK_STORE).map_err(|errno| FsError {
            op: "read properties of",
            path: dir.rel(),
            errno,
        })?;
        Ok(raw.map(|r| parse_store(&r)).unwrap_or_default())
    }

    fn save_store(root: &Root, dir: &DavPath, store: &Store) -> Result<(), FsError> {
        let fd = root.open_for_attrs(dir)?;
        write_small(&fd, FALLBACK_STORE, &render_store(store)).map_err(|errno| FsError {
            op: "store properties of",
            path: dir.rel(),
            errno,
        })
    }

    /// Every dead property of `p`.
    pub fn list(&self, root: &Root, p: &DavPath) -> Result<Vec<DeadProp>, FsError> {
        let file = root.open_for_attrs(p)?;
        let mut found = read_xattrs(&file);
        let (dir, entry) = Self::slot(root, p)?;
        if let Some(props) = Self::load_store(root, &dir)?.remove(&entry) {
            found.extend(props);
        }
        Ok(into_props(found))
    }

    /// The fallback store of collection `dir` (empty when there is none), read once for a
    /// whole listing.
    pub fn dir_store(&self, root: &Root, dir: &DavPath) -> Store {
        Self::load_store(root, dir).unwrap_or_default()
    }

    /// Every dead property of the plain (not symlinked) regular file or directory `name` in
    /// the open directory `dir`, whose fallback store is `store`; `file` is the member
    /// already open, if it is.
    pub fn list_member(
        &self,
        dir: &OwnedFd,
        name: &str,
        file: Option<&std::fs::File>,
        store: &Store,
    ) -> Vec<DeadProp> {
        let flags = OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
        let mut found = match file {
            Some(file) => read_xattrs(file),
            None => match openat(dir, name, flags, Mode::empty()) {
                Ok(fd) => read_xattrs(&std::fs::File::from(fd)),
                Err(_) => BTreeMap::new(),
            },
        };
        if let Some(props) = store.get(name) {
            found.extend(props.clone());
        }
        into_props(found)
    }

    /// Apply `changes` in order, all or nothing.
    pub fn apply(&self, root: &Root, p: &DavPath, changes: &[Change]) -> Result<(), FsError> {
        let file = root.open_for_attrs(p)?;
        let err = |e: &std::io::Error| FsError {
            op: "store properties of",
            path: p.rel(),
            errno: e.raw_os_error().map(Errno::from_raw).unwrap_or(Errno::EIO),
        };
        let mut undo: Vec<(String, Option<Vec<u8>>)> = Vec::new();
        let mut failure = None;
        for change in changes {
            let (ns, name) = match change {
                Change::Set(prop) => (&prop.ns, &prop.name),
                Change::Remove { ns, name } => (ns, name),
            };
            let key = xattr_name(ns, name);
            let before = file.get_xattr(&key).ok().flatten();
            let result = match change {
                Change::Set(prop) => file.set_xattr(&key, &encode(prop)),
                Change::Remove { .. } => match file.remove_xattr(&key) {
                    Err(e) if e.raw_os_error() == Some(Errno::ENODATA as i32) => Ok(()),
                    other => other,
                },
            };
            match result {
                Ok(()) => undo.push((key, before)),
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        let Some(failure) = failure else {
            return Ok(());
        };
        for (key, before) in undo.into_iter().rev() {
            let _ = match before {
                Some(value) => file.set_xattr(&key, &value),
                None => file.remove_xattr(&key),
            };
        }
        if !unsupported(&failure) {
            return Err(err(&failure));
        }
        // No user xattrs here: use the directory's fallback store.
        let _guard = self
            .fallback
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (dir, entry) = Self::slot(root, p)?;
        let mut store = Self::load_store(root, &dir)?;
        let props = store.entry(entry.clone()).or_default();
        for change in changes {
            match change {
                Change::Set(prop) => {
                    props.insert((prop.ns.clone(), prop.name.clone()), prop.xml.clone());
                }
                Change::Remove { ns, name } => {
                    props.remove(&(ns.clone(), name.clone()));
                }
            }
        }
        if props.is_empty() {
            store.remove(&entry);
        }
        Self::save_store(root, &dir, &store)
    }

    /// Carry `from`'s fallback record to `to` after a move (xattrs move with the inode); with
    /// `keep`, after a copy, leave the source's record in place.
    pub fn transfer(&self, root: &Root, from: &DavPath, to: &DavPath, keep: bool) {
        let _guard = self
            .fallback
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (Some(from_dir), Some(from_name), Some(to_dir), Some(to_name)) =
            (from.parent(), from.name(), to.parent(), to.name())
        else {
            return;
        };
        let Ok(mut src) = Self::load_store(root, &from_dir) else {
            return;
        };
        let record = if keep {
            src.get(from_name).cloned()
        } else {
            src.remove(from_name)
        };
        let Some(record) = record else { return };
        if !keep && Self::save_store(root, &from_dir, &src).is_err() {
            return;
        }
        let Ok(mut dst) = Self::load_store(root, &to_dir) else {
            return;
        };
        dst.insert(to_name.to_owned(), record);
        let _ = Self::save_store(root, &to_dir, &dst);
    }

    /// Forget `p`'s fallback record after it was deleted (or before it is overwritten).
    pub fn forget(&self, root: &Root, p: &DavPath) {
        let _guard = self
            .fallback
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (Some(dir), Some(name)) = (p.parent(), p.name()) else {
            return;
        };
        let Ok(mut store) = Self::load_store(root, &dir) else {
            return;
        };
        if store.remove(name).is_some() {
            let _ = Self::save_store(root, &dir, &store);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_round_trips() {
        let mut store = Store::new();
        store.entry("a b".into()).or_default().insert(
            ("urn:x".into(), "p".into()),
            "<n0:p xmlns:n0=\"urn:x\">v\nw</n0:p>".into(),
        );
        store
            .entry(".".into())
            .or_default()
            .insert(("".into(), "q".into()), "<q xmlns=\"\"/>".into());
        assert_eq!(parse_store(&render_store(&store)), store);
        let prop = DeadProp {
            ns: "urn:x".into(),
            name: "p".into(),
            xml: "<x/>".into(),
        };
        assert_eq!(decode(&encode(&prop)), Some(prop));
        assert_ne!(xattr_name("a", "bc"), xattr_name("ab", "c"));
    }
}
