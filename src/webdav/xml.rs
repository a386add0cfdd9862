//! XML request bodies and response writing. Bodies are parsed into a small namespace-resolved
//! tree; a document carrying a DTD is refused outright (no entity is ever expanded, so billion
//! laughs and external entities cannot work), as are undeclared prefixes and empty prefix
//! bindings. Size limits are enforced by the caller before parsing. Dead property values are
//! kept as self-contained XML text produced by [`Element::to_xml`].

use quick_xml::NsReader;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use thiserror::Error;

/// Why a request body was refused.
#[derive(Debug, Error)]
pub enum XmlError {
    #[error("request body is not well-formed XML: {detail}")]
    Syntax { detail: String },
    #[error("request body carries a document type declaration, which bosun refuses")]
    Doctype,
    #[error("request body uses the entity &{name}; which bosun does not expand")]
    Entity { name: String },
    #[error("request body has no root element")]
    Empty,
    #[error("request body nests elements deeper than {MAX_DEPTH} levels")]
    TooDeep,
    #[error("request body is in the encoding {name:?}, which bosun does not read")]
    Encoding { name: String },
}

/// An attribute, namespace-resolved (`ns` empty when unqualified).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attr {
    pub ns: String,
    pub name: String,
    pub value: String,
}

/// An element or a run of text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Element(Element),
    Text(String),
}

/// A namespace-resolved element (`ns` empty when in no namespace).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Element {
    pub ns: String,
    pub name: String,
    pub attrs: Vec<Attr>,
    pub children: Vec<Node>,
}

pub const DAV: &str = "DAV:";
/// Deepest element nesting accepted. The tree is walked (serialised, dropped) recursively, so
/// without a bound a small body could exhaust a thread's stack.
pub const MAX_DEPTH: usize = 64;
const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

impl Element {
    /// Whether this element is `{ns}name`.
    pub fn is(&self, ns: &str, name: &str) -> bool {
        self.ns == ns && self.name == name
    }

    /// The child elements.
    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    /// The first child element `{DAV:}name`.
    pub fn dav_child(&self, name: &str) -> Option<&Element> {
        self.elements().find(|e| e.is(DAV, name))
    }

    /// All text inside, concatenated.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for node in &self.children {
            match node {
                Node::Text(t) => out.push_str(t),
                Node::Element(e) => out.push_str(&e.text()),
            }
        }
        out
    }

    /// Serialise this element with every namespace declared where it is used, so the text can
    /// be stored and later embedded anywhere.
    pub fn to_xml(&self) -> String {
        let mut out = String::new();
        self.write(&mut out, 0);
        out
    }

    /// Serialise only the children (for `owner` values).
    pub fn children_xml(&self) -> String {
        let mut out = String::new();
        for node in &self.children {
            match node {
                Node::Text(t) => out.push_str(&escape(t)),
                Node::Element(e) => e.write(&mut out, 0),
            }
        }
        out
    }

    fn write(&self, out: &mut String, depth: usize) {
        let prefix = format!("n{depth}");
        let tag = if self.ns.is_empty() {
            self.name.clone()
        } else if self.ns == XML_NS {
            // The `xml` prefix is predeclared and may not be declared again.
            format!("xml:{}", self.name)
        } else {
            format!("{prefix}:{}", self.name)
        };
        out.push('<');
        out.push_str(&tag);
        if self.ns.is_empty() {
            out.push_str(" xmlns=\"\"");
        } else if self.ns != XML_NS {
            out.push_str(&format!(" xmlns:{prefix}=\"{}\"", escape(&self.ns)));
        }
        for (i, attr) in self.attrs.iter().enumerate() {
            if attr.ns.is_empty() {
                out.push_str(&format!(" {}=\"{}\"", attr.name, escape(&attr.value)));
            } else if attr.ns == XML_NS {
                out.push_str(&format!(" xml:{}=\"{}\"", attr.name, escape(&attr.value)));
            } else {
                out.push_str(&format!(
                    " xmlns:a{depth}x{i}=\"{}\" a{depth}x{i}:{}=\"{}\"",
                    escape(&attr.ns),
                    attr.name,
                    escape(&attr.value)
                ));
            }
        }
        if self.children.is_empty() {
            out.push_str("/>");
            return;
        }
        out.push('>');
        for node in &self.children {
            match node {
                Node::Text(t) => out.push_str(&escape(t)),
                Node::Element(e) => e.write(out, depth + 1),
            }
        }
        out.push_str("</");
        out.push_str(&tag);
        out.push('>');
    }
}

/// Escape text for element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    push_escaped(&mut out, text);
    out
}

/// Append `text` escaped as [`escape`] does, copying the runs that need no escape whole.
pub fn push_escaped(out: &mut String, text: &str) {
    let mut rest = text;
    while let Some(i) = rest.find(['<', '>', '&', '"', '\'', '\r']) {
        out.push_str(&rest[..i]);
        out.push_str(match rest.as_bytes()[i] {
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'&' => "&amp;",
            b'"' => "&quot;",
            b'\'' => "&apos;",
            _ => "&#13;",
        });
        rest = &rest[i + 1..];
    }
    out.push_str(rest);
}

fn syntax(detail: impl std::fmt::Display) -> XmlError {
    XmlError::Syntax {
        detail: detail.to_string(),
    }
}

/// The body as UTF-8, from what XML 1.0 allows (section 4.3.3 and appendix F): UTF-8 with or
/// without a byte order mark, UTF-16 with a BOM (or, without one, starting with `<?`), and
/// the ASCII-compatible ISO-8859-1 and US-ASCII when the declaration names them.
pub fn to_utf8(body: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>, XmlError> {
    use std::borrow::Cow;
    let utf16 = |bytes: &[u8], big: bool| -> Result<Cow<'_, [u8]>, XmlError> {
        let units = bytes.chunks(2).map(|pair| match pair {
            [a, b] if big => u16::from_be_bytes([*a, *b]),
            [a, b] => u16::from_le_bytes([*a, *b]),
            // An odd trailing byte cannot be UTF-16.
            _ => 0xDC00,
        });
        char::decode_utf16(units)
            .collect::<Result<String, _>>()
            .map(|text| Cow::Owned(text.into_bytes()))
            .map_err(|_| syntax("invalid UTF-16"))
    };
    match body {
        [0xEF, 0xBB, 0xBF, rest @ ..] => return Ok(Cow::Borrowed(rest)),
        [0xFE, 0xFF, rest @ ..] => return utf16(rest, true),
        [0xFF, 0xFE, rest @ ..] => return utf16(rest, false),
        [0x00, b'<', 0x00, b'?', ..] => return utf16(body, true),
        [b'<', 0x00, b'?', 0x00, ..] => return utf16(body, false),
        _ => {}
    }
    let Some(name) = declared_encoding(body) else {
        return Ok(Cow::Borrowed(body));
    };
    match name.to_ascii_lowercase().as_str() {
        "utf-8" | "utf8" => Ok(Cow::Borrowed(body)),
        "iso-8859-1" | "latin1" | "iso_8859-1" | "us-ascii" | "ascii" => Ok(Cow::Owned(
            body.iter()
                .map(|&b| char::from(b))
                .collect::<String>()
                .into_bytes(),
        )),
        // UTF-16 declared in a body without a BOM that did not start with `<?` in UTF-16.
        _ => Err(XmlError::Encoding { name }),
    }
}

/// The `encoding` of an `<?xml ...?>` declaration at the very start, if any.
fn declared_encoding(body: &[u8]) -> Option<String> {
    let rest = body.strip_prefix(b"<?xml")?;
    let end = rest.windows(2).position(|w| w == b"?>")?;
    let decl = std::str::from_utf8(&rest[..end]).ok()?;
    let at = decl.find("encoding")?;
    let value = decl[at + "encoding".len()..]
        .trim_start()
        .strip_prefix('=')?;
    let value = value.trim_start();
    let quote = value.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let inner = &value[1..];
    Some(inner[..inner.find(quote)?].to_owned())
}

/// Parse a request body into its root element (in any encoding [`to_utf8`] reads).
pub fn parse(body: &[u8]) -> Result<Element, XmlError> {
    let body = to_utf8(body)?;
    let mut reader = NsReader::from_reader(body.as_ref());
    reader.config_mut().expand_empty_elements = true;
    reader.config_mut().check_end_names = true;
    let mut buf = Vec::new();
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let (resolved, event) = reader.read_resolved_event_into(&mut buf).map_err(syntax)?;
        let ns = match resolved {
            ResolveResult::Bound(ns) => {
                String::from_utf8(ns.into_inner().to_vec()).map_err(syntax)?
            }
            ResolveResult::Unbound => String::new(),
            ResolveResult::Unknown(prefix) => {
                return Err(syntax(format!(
                    "undeclared prefix {:?}",
                    String::from_utf8_lossy(&prefix)
                )));
            }
        };
        match event {
            Event::Start(start) => {
                if root.is_some() {
                    return Err(syntax("content after the root element"));
                }
                let name = std::str::from_utf8(start.local_name().into_inner())
                    .map_err(syntax)?
                    .to_owned();
                let mut attrs = Vec::new();
                for attr in start.attributes() {
                    let attr = attr.map_err(syntax)?;
                    let key = attr.key.into_inner();
                    let value = attr.unescape_value().map_err(syntax)?.into_owned();
                    if key == b"xmlns" {
                        continue;
                    }
                    if key.starts_with(b"xmlns:") {
                        if value.is_empty() {
                            return Err(syntax("a namespace prefix bound to the empty string"));
                        }
                        continue;
                    }
                    let (attr_ns, local) = reader.resolve_attribute(attr.key);
                    let attr_ns = match attr_ns {
                        ResolveResult::Bound(ns) => {
                            String::from_utf8(ns.into_inner().to_vec()).map_err(syntax)?
                        }
                        ResolveResult::Unbound => String::new(),
                        ResolveResult::Unknown(_) => {
                            return Err(syntax("undeclared attribute prefix"));
                        }
                    };
                    let attr_ns = if key.starts_with(b"xml:") {
                        XML_NS.to_owned()
                    } else {
                        attr_ns
                    };
                    attrs.push(Attr {
                        ns: attr_ns,
                        name: std::str::from_utf8(local.into_inner())
                            .map_err(syntax)?
                            .to_owned(),
                        value,
                    });
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(XmlError::TooDeep);
                }
                stack.push(Element {
                    ns,
                    name,
                    attrs,
                    children: Vec::new(),
                });
            }
            Event::End(_) => {
                let done = stack.pop().ok_or_else(|| syntax("unbalanced end tag"))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(Node::Element(done)),
                    None => root = Some(done),
                }
            }
            Event::Text(text) => {
                let text = text.xml_content().map_err(syntax)?.into_owned();
                push_text(&mut stack, &text)?;
            }
            Event::CData(data) => {
                let text = data.decode().map_err(syntax)?.into_owned();
                push_text(&mut stack, &text)?;
            }
            Event::GeneralRef(reference) => {
                let text = if reference.is_char_ref() {
                    let c = reference
                        .resolve_char_ref()
                        .map_err(syntax)?
                        .ok_or_else(|| syntax("bad character reference"))?;
                    c.to_string()
                } else {
                    let name = reference.decode().map_err(syntax)?;
                    match name.as_ref() {
                        "lt" => "<".to_owned(),
                        "gt" => ">".to_owned(),
                        "amp" => "&".to_owned(),
                        "apos" => "'".to_owned(),
                        "quot" => "\"".to_owned(),
                        other => {
                            return Err(XmlError::Entity {
                                name: other.chars().take(64).collect(),
                            });
                        }
                    }
                };
                push_text(&mut stack, &text)?;
            }
            Event::DocType(_) => return Err(XmlError::Doctype),
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Empty(_) => return Err(syntax("unexpected empty element event")),
            Event::Eof => break,
        }
        buf.clear();
    }
    if !stack.is_empty() {
        return Err(syntax("unclosed element"));
    }
    root.ok_or(XmlError::Empty)
}

fn push_text(stack: &mut [Element], text: &str) -> Result<(), XmlError> {
    match stack.last_mut() {
        Some(parent) => {
            if let Some(Node::Text(last)) = parent.children.last_mut() {
                last.push_str(text);
            } else {
                parent.children.push(Node::Text(text.to_owned()));
            }
            Ok(())
        }
        None if text.trim().is_empty() => Ok(()),
        None => Err(syntax("text outside the root element")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_encoding_xml_requires() {
        let text = "<?xml version=\"1.0\" encoding=\"UTF-16\"?><D:propfind xmlns:D=\"DAV:\"><D:prop><x:n\u{e9} xmlns:x=\"urn:\u{e9}\"/></D:prop></D:propfind>";
        let utf8 = parse(text.replace("UTF-16", "UTF-8").as_bytes()).unwrap();
        let be: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain(text.encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        let le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let le_no_bom: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let bom8: Vec<u8> = [0xEF, 0xBB, 0xBF]
            .into_iter()
            .chain(text.replace("UTF-16", "UTF-8").bytes())
            .collect();
        let latin1: Vec<u8> = text
            .replace("UTF-16", "ISO-8859-1")
            .chars()
            .map(|c| u8::try_from(u32::from(c)).unwrap())
            .collect();
        for body in [be, le, le_no_bom, bom8, latin1] {
            assert_eq!(parse(&body).unwrap(), utf8, "{body:?}");
        }
        // Negative controls: an unknown encoding, broken UTF-16, undeclared Latin-1.
        assert!(matches!(
            parse(text.replace("UTF-16", "EBCDIC").as_bytes()),
            Err(XmlError::Encoding { .. })
        ));
        assert!(parse(&[0xFF, 0xFE, 0x00, 0xD8, b'<', 0]).is_err());
        assert!(parse(b"<?xml version=\"1.0\"?><a>\xe9</a>").is_err());
    }

    #[test]
    fn parses_namespaces_and_entities() {
        let e = parse(br#"<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><x:a xmlns:x="urn:x" xml:lang="en">1 &amp; &#x10000;<b xmlns=""/><xml:c/></x:a></D:prop></D:propfind>"#).unwrap();
        assert!(e.is(DAV, "propfind"));
        let prop = e.dav_child("prop").unwrap();
        let a = prop.elements().next().unwrap();
        assert!(a.is("urn:x", "a"));
        assert_eq!(a.text(), "1 & \u{10000}");
        assert_eq!(a.attrs[0].ns, XML_NS);
        let again = parse(a.to_xml().as_bytes()).unwrap();
        assert_eq!(&again, a);
    }

    #[test]
    fn refuses_dtds_entities_and_bad_namespaces() {
        let laughs = br#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><D:propfind xmlns:D="DAV:">&lol2;</D:propfind>"#;
        assert!(matches!(parse(laughs), Err(XmlError::Doctype)));
        let xxe = br#"<D:propfind xmlns:D="DAV:">&xxe;</D:propfind>"#;
        assert!(matches!(parse(xxe), Err(XmlError::Entity { .. })));
        assert!(parse(br#"<D:propfind xmlns:D="DAV:"><D:prop><bar:foo xmlns:bar=""/></D:prop></D:propfind>"#).is_err());
        assert!(parse(b"<a><b></a>").is_err());
        assert!(parse(b"<x:a/>").is_err());
        assert!(parse(b"").is_err());
        assert!(parse(b"<a/><b/>").is_err());
        let deep = format!("{}{}", "<a>".repeat(100_000), "</a>".repeat(100_000));
        assert!(matches!(parse(deep.as_bytes()), Err(XmlError::TooDeep)));
        let fine = format!("{}{}", "<a>".repeat(MAX_DEPTH), "</a>".repeat(MAX_DEPTH));
        assert!(parse(fine.as_bytes()).is_ok());
    }
}
