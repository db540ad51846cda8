//! HTML → readable plain text for HTML-only emails: tags dropped (block tags become line breaks,
//! table cells spaces), `<script>`/`<style>` content removed, common entities decoded, blank runs collapsed.

/// Converts an HTML document or fragment to plain text.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        out.push_str(&decode_entities(&rest[..lt]));
        let after = &rest[lt + 1..];
        let Some(gt) = after.find('>') else {
            rest = "";
            break;
        };
        let tag = after[..gt].trim().to_ascii_lowercase();
        rest = &after[gt + 1..];
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        if (name == "script" || name == "style") && !tag.starts_with('/') {
            let close = format!("</{name}");
            rest = match rest.to_ascii_lowercase().find(&close) {
                Some(i) => rest[i..].find('>').map_or("", |j| &rest[i + j + 1..]),
                None => "",
            };
        } else if is_block(&name) {
            out.push('\n');
        } else if matches!(name.as_str(), "td" | "th" | "img") {
            out.push(' ');
        }
    }
    out.push_str(&decode_entities(rest));
    collapse_whitespace(&out)
}

fn is_block(name: &str) -> bool {
    matches!(
        name,
        "br" | "p"
            | "div"
            | "tr"
            | "li"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "table"
            | "ul"
            | "ol"
            | "blockquote"
            | "hr"
            | "title"
    )
}

fn decode_entities(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let decoded = after
            .find(';')
            .filter(|&semi| semi <= 10)
            .and_then(|semi| entity(&after[..semi]).map(|c| (c, semi)));
        match decoded {
            Some((c, semi)) => {
                out.push(c);
                rest = &after[semi + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn entity(name: &str) -> Option<char> {
    let numeric = |digits: &str, radix| {
        u32::from_str_radix(digits, radix)
            .ok()
            .and_then(char::from_u32)
    };
    match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        "nbsp" => Some(' '),
        _ => match name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
            Some(hex) => numeric(hex, 16),
            None => name.strip_prefix('#').and_then(|d| numeric(d, 10)),
        },
    }
}

/// Trims each line, joins runs of spaces, and keeps at most one empty line in a row.
fn collapse_whitespace(text: &str) -> String {
    let mut lines: Vec<String> = Vec::new();
    for line in text.lines() {
        let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
        if line.is_empty() && lines.last().is_none_or(|l| l.is_empty()) {
            continue;
        }
        lines.push(line);
    }
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_becomes_readable_text_without_scripts_or_styles() {
        let html = "<html><head><style>p{color:red}</style><script>alert('x<y')</script></head>\
            <body><p>Hello&nbsp;<b>Ann</b>,</p><p>Total: 5 &lt; 6 &amp; &#8364;3 &#x41;</p>\
            <br/><div>  Bye   </div></body></html>";
        assert_eq!(
            html_to_text(html),
            "Hello Ann,\n\nTotal: 5 < 6 & €3 A\n\nBye"
        );
    }

    #[test]
    fn stray_ampersands_and_unclosed_tags_do_not_break_the_text() {
        assert_eq!(
            html_to_text("Tom & Jerry &unknown; ok"),
            "Tom & Jerry &unknown; ok"
        );
        assert_eq!(html_to_text("text <b unclosed"), "text");
    }
}
