//! CalDAV's XML through `quick-xml`: request bodies built as small element trees and written by
//! its `Writer`, and `207 Multi-Status` answers read by its namespace-aware reader into
//! [`Response`]s (an href and the properties found with a 2xx status). Hostile bodies cost time
//! linear in their size (the caller caps the size) and never panic.

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::{Namespace, ResolveResult};
use quick_xml::reader::NsReader;
use quick_xml::writer::Writer;

/// The WebDAV namespace.
pub const DAV: &str = "DAV:";
/// The CalDAV namespace.
pub const CALDAV: &str = "urn:ietf:params:xml:ns:caldav";

/// An element of a request body: `d:` is WebDAV, `c:` CalDAV (declared on the root).
#[derive(Debug, Clone)]
pub struct El {
    name: &'static str,
    attrs: Vec<(&'static str, String)>,
    children: Vec<El>,
}

/// An element with no attributes and no children.
pub fn el(name: &'static str) -> El {
    El {
        name,
        attrs: Vec::new(),
        children: Vec::new(),
    }
}

impl El {
    /// The element with an attribute.
    pub fn attr(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.attrs.push((key, value.into()));
        self
    }

    /// The element with children.
    pub fn with(mut self, children: impl IntoIterator<Item = El>) -> Self {
        self.children.extend(children);
        self
    }

    /// The document: this element as the root, with both namespaces declared.
    pub fn document(self) -> String {
        let root = self.attr("xmlns:d", DAV).attr("xmlns:c", CALDAV);
        let mut writer = Writer::new(Vec::new());
        write(&mut writer, &root);
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
        out.push_str(&String::from_utf8_lossy(&writer.into_inner()));
        out
    }
}

fn write(writer: &mut Writer<Vec<u8>>, el: &El) {
    let mut start = BytesStart::new(el.name);
    for (k, v) in &el.attrs {
        start.push_attribute((*k, v.as_str()));
    }
    // Writing into a Vec cannot fail.
    if el.children.is_empty() {
        let _ = writer.write_event(Event::Empty(start));
        return;
    }
    let end = start.to_end().into_owned();
    let _ = writer.write_event(Event::Start(start));
    for child in &el.children {
        write(writer, child);
    }
    let _ = writer.write_event(Event::End(end));
}

/// A property as returned: its name, text, the hrefs inside it, the names of its child
/// elements and the `name` attributes of CalDAV `comp` children.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Prop {
    /// Namespace URI.
    pub ns: String,
    /// Local name.
    pub name: String,
    /// All text inside (entities resolved), e.g. `calendar-data` or `displayname`.
    pub text: String,
    /// `DAV:href` values inside, e.g. of `current-user-principal`.
    pub hrefs: Vec<String>,
    /// Child elements as (namespace, local name), e.g. of `resourcetype`.
    pub children: Vec<(String, String)>,
    /// `comp name="…"` values, of `supported-calendar-component-set`.
    pub comps: Vec<String>,
}

/// One `DAV:response`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Response {
    /// The resource's href (as sent; resolve against the request URL).
    pub href: String,
    /// Properties that came with a 2xx status.
    pub props: Vec<Prop>,
}

impl Response {
    /// The property `ns`:`name`, when found.
    pub fn prop(&self, ns: &str, name: &str) -> Option<&Prop> {
        self.props.iter().find(|p| p.ns == ns && p.name == name)
    }
}

/// Where text goes while reading.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Capture {
    Nothing,
    ResponseHref,
    Status,
    PropText,
    PropHref,
}

/// Reads a multistatus body into its responses.
pub fn parse_multistatus(body: &str) -> Result<Vec<Response>, String> {
    let mut reader = NsReader::from_str(body);
    let mut stack: Vec<(String, String)> = Vec::new();
    let mut out = Vec::new();
    let mut response: Option<Response> = None;
    let (mut props, mut status) = (Vec::<Prop>::new(), String::new());
    let mut prop: Option<(Prop, usize)> = None;
    let mut capture = Capture::Nothing;
    loop {
        let (resolved, event) = reader
            .read_resolved_event()
            .map_err(|e| format!("malformed XML: {e}"))?;
        let ns = match resolved {
            ResolveResult::Bound(Namespace(ns)) => ns.to_string(),
            _ => String::new(),
        };
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                let name = e.local_name().as_ref().to_string();
                let parent = stack.last().map(|(_, n)| n.as_str()).unwrap_or("");
                let is = |want_ns: &str, want: &str| ns == want_ns && name == want;
                if let Some((p, depth)) = prop.as_mut() {
                    if stack.len() == *depth + 1 {
                        p.children.push((ns.clone(), name.clone()));
                    }
                    if is(DAV, "href") {
                        p.hrefs.push(String::new());
                        capture = Capture::PropHref;
                    }
                    if is(CALDAV, "comp")
                        && let Some(Ok(attr)) = e.attributes().find(|a| {
                            a.as_ref()
                                .is_ok_and(|a| a.key.local_name().as_ref() == "name")
                        })
                    {
                        p.comps.push(attr.value.to_string());
                    }
                } else if is(DAV, "response") {
                    response = Some(Response::default());
                } else if is(DAV, "href") && parent == "response" {
                    capture = Capture::ResponseHref;
                } else if is(DAV, "propstat") {
                    (props, status) = (Vec::new(), String::new());
                } else if is(DAV, "status") && parent == "propstat" {
                    capture = Capture::Status;
                } else if parent == "prop" && response.is_some() {
                    let p = Prop {
                        ns: ns.clone(),
                        name: name.clone(),
                        ..Prop::default()
                    };
                    prop = Some((p, stack.len()));
                    capture = Capture::PropText;
                }
                if empty {
                    close(&mut prop, &mut props, stack.len(), &mut capture);
                } else {
                    stack.push((ns, name));
                }
            }
            Event::End(_) => {
                let Some((_, name)) = stack.pop() else {
                    continue;
                };
                if prop.as_ref().is_some_and(|(_, d)| *d == stack.len()) {
                    close(&mut prop, &mut props, stack.len(), &mut capture);
                } else if prop.is_some() {
                    capture = Capture::PropText;
                } else if name == "propstat" {
                    if let Some(r) = response.as_mut()
                        && is_success(&status)
                    {
                        r.props.append(&mut props);
                    }
                    capture = Capture::Nothing;
                } else if name == "response" {
                    out.extend(response.take());
                } else {
                    capture = Capture::Nothing;
                }
            }
            Event::Text(t) => push_text(
                &mut response,
                &mut prop,
                &mut status,
                capture,
                &t.xml10_content(),
            ),
            Event::CData(t) => {
                let text = t.into_inner().into_owned();
                push_text(&mut response, &mut prop, &mut status, capture, &text);
            }
            Event::GeneralRef(r) => {
                let raw = format!("&{};", r.xml10_content());
                let text = quick_xml::escape::unescape(&raw)
                    .map_err(|e| format!("bad entity: {e}"))?
                    .into_owned();
                push_text(&mut response, &mut prop, &mut status, capture, &text);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(out)
}

/// Ends the property being read (at its closing tag, or at once when it was empty).
fn close(
    prop: &mut Option<(Prop, usize)>,
    props: &mut Vec<Prop>,
    depth: usize,
    capture: &mut Capture,
) {
    if prop.as_ref().is_some_and(|(_, d)| *d == depth)
        && let Some((p, _)) = prop.take()
    {
        props.push(p);
        *capture = Capture::Nothing;
    }
}

fn push_text(
    response: &mut Option<Response>,
    prop: &mut Option<(Prop, usize)>,
    status: &mut String,
    capture: Capture,
    text: &str,
) {
    match capture {
        Capture::Nothing => {}
        Capture::ResponseHref => {
            if let Some(r) = response.as_mut() {
                r.href.push_str(text.trim());
            }
        }
        Capture::Status => status.push_str(text),
        Capture::PropText => {
            if let Some((p, _)) = prop.as_mut() {
                p.text.push_str(text);
            }
        }
        Capture::PropHref => {
            if let Some((p, _)) = prop.as_mut() {
                if let Some(h) = p.hrefs.last_mut() {
                    h.push_str(text.trim());
                }
                p.text.push_str(text);
            }
        }
    }
}

/// Whether a `HTTP/1.1 200 OK` status line is a success (a missing status counts as one).
fn is_success(status: &str) -> bool {
    let code = status.split_whitespace().nth(1).unwrap_or("200");
    code.starts_with('2')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_multistatus_with_prefixes_entities_and_a_404_propstat_is_read() {
        let body = r#"<?xml version="1.0"?>
<multistatus xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
 <response><href>/ana/cal/</href>
  <propstat><prop>
    <resourcetype><collection/><C:calendar/></resourcetype>
    <displayname>Work &amp; play</displayname>
    <C:supported-calendar-component-set><C:comp name="VEVENT"/></C:supported-calendar-component-set>
    <current-user-principal><href>/ana/</href></current-user-principal>
  </prop><status>HTTP/1.1 200 OK</status></propstat>
  <propstat><prop><getetag/></prop><status>HTTP/1.1 404 Not Found</status></propstat>
 </response>
</multistatus>"#;
        let responses = parse_multistatus(body).unwrap();
        assert_eq!(responses.len(), 1);
        let r = &responses[0];
        assert_eq!(r.href, "/ana/cal/");
        let kinds = &r.prop(DAV, "resourcetype").unwrap().children;
        assert!(kinds.contains(&(CALDAV.to_string(), "calendar".to_string())));
        assert_eq!(r.prop(DAV, "displayname").unwrap().text, "Work & play");
        let comps = &r
            .prop(CALDAV, "supported-calendar-component-set")
            .unwrap()
            .comps;
        assert_eq!(comps, &vec!["VEVENT".to_string()]);
        assert_eq!(
            r.prop(DAV, "current-user-principal").unwrap().hrefs,
            vec!["/ana/"]
        );
        assert!(r.prop(DAV, "getetag").is_none());
    }

    #[test]
    fn malformed_and_hostile_bodies_give_an_error_or_nothing_and_never_panic() {
        let unclosed = parse_multistatus("<multistatus xmlns=\"DAV:\"><response><href>/x");
        assert!(unclosed.map_or(true, |r| r.is_empty()));
        assert!(parse_multistatus("</a></b>").is_err());
        let deep = "<a>".repeat(100_000);
        assert!(parse_multistatus(&deep).map_or(true, |r| r.is_empty()));
        assert!(parse_multistatus("<a>&bogus;</a>").is_err());
    }

    #[test]
    fn a_request_body_declares_both_namespaces_and_escapes_values() {
        let doc = el("d:propfind")
            .with([el("d:prop").with([el("c:calendar-home-set")])])
            .document();
        assert!(
            doc.contains(r#"<d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">"#),
            "{doc}"
        );
        assert!(doc.contains("<c:calendar-home-set/>"), "{doc}");
        let doc = el("c:comp-filter").attr("name", "a\"<b").document();
        assert!(doc.contains("a&quot;&lt;b"), "{doc}");
    }
}
