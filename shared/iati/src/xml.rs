//! A small element tree read with quick-xml: IATI files are a few megabytes at most, and a tree
//! lets the reader check how often each element occurs and say where (line, path) one is wrong.

use quick_xml::Reader;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};

use crate::error::{IatiError, Place};

#[derive(Debug, Clone, Default)]
pub(crate) struct Node {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Node>,
    /// The element's own text (outside its children), entities resolved.
    pub text: String,
    /// Line of the start tag, from 1.
    pub line: usize,
    /// XPath of the element, e.g. `/iati-activities/iati-activity[2]/title[1]`.
    pub path: String,
}

impl Node {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn children_named<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a Node> {
        self.children.iter().filter(move |c| c.name == name)
    }

    pub fn place(&self, activity: Option<&str>) -> Place {
        Place {
            line: self.line,
            path: self.path.clone(),
            activity: activity.map(str::to_owned),
        }
    }
}

/// Whether a name is in a namespace (`xml:lang`, `acme:extra`). IATI lets publishers add
/// elements and attributes in their own namespaces; those are skipped, never refused.
pub(crate) fn is_namespaced(name: &str) -> bool {
    name.contains(':')
}

/// IATI nests about eight levels deep; a much deeper file is refused before the tree (dropped
/// recursively) could exhaust the stack.
const MAX_DEPTH: usize = 64;

/// Line numbers from byte offsets, counted once as the reader moves forward.
struct Lines<'a> {
    text: &'a [u8],
    pos: usize,
    line: usize,
}

impl Lines<'_> {
    fn at(&mut self, offset: u64) -> usize {
        let offset = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(self.text.len());
        if offset < self.pos {
            // Error positions may lie behind the last event; count again from the start.
            self.pos = 0;
            self.line = 1;
        }
        self.line += self.text[self.pos..offset]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        self.pos = offset;
        self.line
    }
}

/// Parses a whole document into its root element. Refuses anything not well-formed: bad UTF-8,
/// mismatched or unclosed tags, unknown entities, two roots, text outside the root.
pub(crate) fn parse(bytes: &[u8]) -> Result<Node, IatiError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = 1 + bytes[..e.valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        IatiError::Xml {
            line,
            message: format!(
                "not UTF-8 at byte {} (IATI files are UTF-8)",
                e.valid_up_to()
            ),
        }
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = Reader::from_str(text);
    let mut lines = Lines {
        text: text.as_bytes(),
        pos: 0,
        line: 1,
    };
    // The open elements, innermost last; a closed element moves into its parent.
    let mut stack: Vec<Node> = Vec::new();
    let mut root: Option<Node> = None;
    loop {
        let before = reader.buffer_position();
        let event = reader.read_event().map_err(|e| IatiError::Xml {
            line: lines.at(reader.error_position()),
            message: e.to_string(),
        })?;
        match event {
            Event::Start(start) | Event::Empty(start) if root.is_some() => {
                return Err(IatiError::Xml {
                    line: lines.at(before),
                    message: format!(
                        "element <{}> after the root element is closed",
                        String::from_utf8_lossy(start.name().as_ref())
                    ),
                });
            }
            Event::Start(start) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(IatiError::Xml {
                        line: lines.at(before),
                        message: format!("elements nested deeper than {MAX_DEPTH} levels"),
                    });
                }
                let node = open(&start, lines.at(before), stack.last())?;
                stack.push(node);
            }
            Event::Empty(start) => {
                let node = open(&start, lines.at(before), stack.last())?;
                close(&mut stack, &mut root, node);
            }
            Event::End(_) => {
                // quick-xml has checked that the end tag matches the open element.
                if let Some(node) = stack.pop() {
                    close(&mut stack, &mut root, node);
                }
            }
            Event::Text(t) => {
                let decoded = t.decode().map_err(|e| IatiError::Xml {
                    line: lines.at(before),
                    message: e.to_string(),
                })?;
                push_text(&mut stack, &decoded, lines.at(before))?;
            }
            Event::CData(t) => {
                let decoded = t.decode().map_err(|e| IatiError::Xml {
                    line: lines.at(before),
                    message: e.to_string(),
                })?;
                push_text(&mut stack, &decoded, lines.at(before))?;
            }
            Event::GeneralRef(r) => {
                let line = lines.at(before);
                let bad = |message: String| IatiError::Xml { line, message };
                let resolved = if r.is_char_ref() {
                    r.resolve_char_ref()
                        .map_err(|e| bad(e.to_string()))?
                        .map(String::from)
                } else {
                    let name = r.decode().map_err(|e| bad(e.to_string()))?;
                    resolve_predefined_entity(&name).map(str::to_owned)
                };
                let Some(resolved) = resolved else {
                    return Err(bad(format!(
                        "unknown entity &{};",
                        String::from_utf8_lossy(&r)
                    )));
                };
                push_text(&mut stack, &resolved, line)?;
            }
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
            Event::Eof => break,
        }
    }
    if let Some(open) = stack.last() {
        return Err(IatiError::Xml {
            line: lines.at(u64::try_from(text.len()).unwrap_or(u64::MAX)),
            message: format!(
                "element <{}> opened on line {} is not closed",
                open.name, open.line
            ),
        });
    }
    root.ok_or(IatiError::Xml {
        line: 1,
        message: "no root element".to_owned(),
    })
}

fn open(start: &BytesStart<'_>, line: usize, parent: Option<&Node>) -> Result<Node, IatiError> {
    let bad = |message: String| IatiError::Xml { line, message };
    let name = std::str::from_utf8(start.name().as_ref())
        .map_err(|e| bad(e.to_string()))?
        .to_owned();
    let mut attrs = Vec::new();
    for attr in start.attributes() {
        let attr = attr.map_err(|e| bad(e.to_string()))?;
        let key = std::str::from_utf8(attr.key.as_ref())
            .map_err(|e| bad(e.to_string()))?
            .to_owned();
        let value = attr.unescape_value().map_err(|e| bad(e.to_string()))?;
        attrs.push((key, value.into_owned()));
    }
    let path = match parent {
        None => format!("/{name}"),
        Some(p) => {
            let n = 1 + p.children.iter().filter(|c| c.name == name).count();
            format!("{}/{name}[{n}]", p.path)
        }
    };
    Ok(Node {
        name,
        attrs,
        children: Vec::new(),
        text: String::new(),
        line,
        path,
    })
}

fn close(stack: &mut [Node], root: &mut Option<Node>, node: Node) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(node),
        None => *root = Some(node),
    }
}

fn push_text(stack: &mut [Node], text: &str, line: usize) -> Result<(), IatiError> {
    match stack.last_mut() {
        Some(node) => {
            node.text.push_str(text);
            Ok(())
        }
        None if text.trim().is_empty() => Ok(()),
        None => {
            // The text event starts with the whitespace before it; name the line of the text.
            let leading = &text[..text.len() - text.trim_start().len()];
            Err(IatiError::Xml {
                line: line + leading.matches('\n').count(),
                message: "text outside the root element".to_owned(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_with_paths_lines_and_entities() {
        let root = parse(
            b"<?xml version=\"1.0\"?>\n<a x=\"1 &amp; 2\">\n <b>one &lt; &#65;</b>\n <b/><c><![CDATA[<raw>]]></c>\n</a>\n",
        )
        .unwrap();
        assert_eq!(root.name, "a");
        assert_eq!(root.attr("x"), Some("1 & 2"));
        assert_eq!(root.line, 2);
        let bs: Vec<_> = root.children_named("b").collect();
        assert_eq!(bs.len(), 2);
        assert_eq!(bs[0].text, "one < A");
        assert_eq!(bs[1].path, "/a/b[2]");
        assert_eq!(bs[1].line, 4);
        assert_eq!(root.children[2].text, "<raw>");
    }

    #[test]
    fn malformed_documents_are_refused_with_a_line() {
        for (doc, line) in [
            (&b"<a>\n<b>\n</a>"[..], 3),
            (b"<a>\n<b>\n", 3),
            (b"<a/>\n<b/>", 2),
            (b"<a>&nope;</a>", 1),
            (b"\n\nnot xml at all", 3),
            (b"<a>\n\xff</a>", 2),
            (b"", 1),
            (b"<a x=\"1\" x=\"2\"/>", 1),
            (&b"<a>".repeat(100_000), 1),
        ] {
            match parse(doc) {
                Err(IatiError::Xml { line: got, .. }) => {
                    assert_eq!(got, line, "{:?}", String::from_utf8_lossy(doc));
                }
                other => panic!("{:?}: {other:?}", String::from_utf8_lossy(doc)),
            }
        }
    }
}
