//! The two services' JSON, read leniently entry by entry: SearXNG's `results[]` with `title`,
//! `url` and `content`; Brave's `web.results[]` with `title`, `url` and `description` (which
//! carries `<strong>` around matched words). A body that is not JSON, or lacks the list where
//! the list belongs, is [`SearchError::Malformed`]; an odd entry is skipped, not fatal.

use serde_json::Value;

use super::SearchError;
use super::results::Hit;

/// Which JSON shape a body has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// SearXNG `format=json`.
    SearxNg,
    /// Brave `WebSearchApiResponse`.
    Brave,
}

impl Shape {
    /// The service's name for replies.
    pub fn service(self) -> &'static str {
        match self {
            Self::SearxNg => "SearXNG",
            Self::Brave => "Brave Search",
        }
    }
}

/// The first `max` usable results of `body` (CPU work: run it off the async threads).
pub fn parse(shape: Shape, body: &[u8], max: usize) -> Result<Vec<Hit>, SearchError> {
    let malformed = || SearchError::Malformed(shape.service());
    let doc: Value = serde_json::from_slice(body).map_err(|_| malformed())?;
    if !doc.is_object() {
        return Err(malformed());
    }
    let (list, snippet_key) = match shape {
        Shape::SearxNg => (doc.get("results"), "content"),
        Shape::Brave => match doc.get("web") {
            // Brave leaves `web` out when nothing was found.
            None => return Ok(Vec::new()),
            Some(web) => (web.get("results"), "description"),
        },
    };
    let list = list.and_then(Value::as_array);
    let list = list.ok_or_else(malformed)?;
    Ok(list
        .iter()
        .filter_map(|entry| {
            let text = |key: &str| entry.get(key).and_then(Value::as_str).unwrap_or("");
            Hit::new(text("title"), text("url"), text(snippet_key))
        })
        .take(max)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn searxng_results_are_read_and_odd_entries_skipped() {
        let body = br#"{"query":"q","number_of_results":0,"results":[
            {"title":"Rust 2024","url":"https://blog.rust-lang.org/2025/02/20/Rust-1.85.0/","content":"The 2024 edition &amp; more","engine":"duckduckgo"},
            {"title":"no url"},
            {"title":7,"url":"javascript:alert(1)","content":"x"},
            {"title":"Second","url":"https://doc.rust-lang.org/edition-guide/","content":null}
        ],"answers":[],"infoboxes":[],"suggestions":[],"unresponsive_engines":[]}"#;
        let hits = parse(Shape::SearxNg, body, 8).unwrap();
        assert_eq!(hits.len(), 2, "{hits:?}");
        assert_eq!(hits[0].snippet, "The 2024 edition & more");
        assert_eq!(hits[1].title, "Second");
        assert_eq!(hits[1].snippet, "");
    }

    #[test]
    fn brave_results_lose_their_strong_tags_and_a_missing_web_section_is_no_results() {
        let body = br#"{"type":"search","query":{"original":"q"},"web":{"type":"search","family_friendly":true,"results":[
            {"type":"search_result","title":"Rust &#x27;24","url":"https://example.org/a","description":"The <strong>2024</strong> edition","language":"en","is_live":false,"subtype":"generic"}
        ]}}"#;
        let hits = parse(Shape::Brave, body, 8).unwrap();
        assert_eq!(hits[0].title, "Rust '24");
        assert_eq!(hits[0].snippet, "The 2024 edition");
        assert!(
            parse(
                Shape::Brave,
                br#"{"type":"search","query":{"original":"q"}}"#,
                8
            )
            .unwrap()
            .is_empty()
        );
    }

    #[test]
    fn bodies_that_are_not_the_expected_json_are_malformed() {
        for (shape, body) in [
            (Shape::SearxNg, &b"<html>searx</html>"[..]),
            (Shape::SearxNg, br#"{"results":{"a":1}}"#),
            (Shape::SearxNg, br#"[1,2]"#),
            (Shape::Brave, br#"{"web":{"results":"none"}}"#),
            (Shape::Brave, br#"{"web":{"results":[{"title":"cut"#),
        ] {
            assert_eq!(
                parse(shape, body, 8),
                Err(SearchError::Malformed(shape.service())),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn at_most_max_results_are_kept() {
        let entries: Vec<String> = (0..30)
            .map(|i| format!(r#"{{"title":"t{i}","url":"https://e.org/{i}","content":"c"}}"#))
            .collect();
        let body = format!(r#"{{"results":[{}]}}"#, entries.join(","));
        let hits = parse(Shape::SearxNg, body.as_bytes(), 6).unwrap();
        assert_eq!(hits.len(), 6);
        assert_eq!(hits[5].url, "https://e.org/5");
    }
}
