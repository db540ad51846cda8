//! The polling-mode paste flow's first question: is this chat message the address Google sent
//! the browser to? Only a URL to the paste redirect ([`PASTE_REDIRECT_URI`], the one the consent
//! link named) that carries a `state` counts, so ordinary messages that merely contain a link
//! with `state=` in it reach the assistant as usual.

use url::Url;

use super::connect::PASTE_REDIRECT_URI;

/// Whether a chat message looks like the pasted address of the paste flow (for the dispatcher
/// to route it to [`super::GmailConnect::complete_from_pasted_url`]).
pub fn looks_like_pasted_redirect(text: &str) -> bool {
    find_redirect_url(text).is_some()
}

/// The first word of `text` that is a URL to the paste redirect with a `state` parameter.
pub(super) fn find_redirect_url(text: &str) -> Option<Url> {
    // Every text message is asked this: most have no link, and are answered without parsing.
    if !text.contains("http://") {
        return None;
    }
    let expected = Url::parse(PASTE_REDIRECT_URI).ok()?;
    text.split_whitespace()
        .map(|word| word.trim_matches(|c| c == '<' || c == '>'))
        .filter(|word| word.starts_with("http://"))
        .filter_map(|word| Url::parse(word).ok())
        .find(|url| is_paste_redirect(url, &expected))
}

/// Same scheme, host, port and path as the paste redirect, and a `state` in the query.
fn is_paste_redirect(url: &Url, expected: &Url) -> bool {
    url.scheme() == expected.scheme()
        && url.host() == expected.host()
        && url.port_or_known_default() == expected.port_or_known_default()
        && url.path() == expected.path()
        && url.query_pairs().any(|(k, _)| k == "state")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gmail::loopback::RedirectParams;

    #[test]
    fn the_pasted_redirect_is_found_inside_a_message() {
        let text =
            "here: <http://127.0.0.1/auth/gmail/callback?state=abc&code=4/xyz&scope=s> thanks";
        assert!(looks_like_pasted_redirect(text));
        let url = find_redirect_url(text).unwrap();
        assert_eq!(
            RedirectParams::from_url(&url).code.as_deref(),
            Some("4/xyz")
        );
        assert!(looks_like_pasted_redirect(
            "http://127.0.0.1:80/auth/gmail/callback?code=c&state=s"
        ));
    }

    #[test]
    fn other_links_with_a_state_parameter_are_ordinary_messages() {
        for text in [
            "see https://example.com/page?q=1",
            "what is https://shop.example.com/track?state=shipped&id=4 saying?",
            "oauth demo: https://accounts.example.org/callback?state=abc&code=xyz",
            "https://127.0.0.1/auth/gmail/callback?state=abc&code=x",
            "http://127.0.0.1:8080/auth/gmail/callback?state=abc&code=x",
            "http://127.0.0.1/auth/gmail/other?state=abc&code=x",
            "http://localhost/auth/gmail/callback?state=abc&code=x",
            "http://127.0.0.1/auth/gmail/callback?code=no-state",
            "the word state=abc with no link",
        ] {
            assert!(!looks_like_pasted_redirect(text), "{text}");
        }
    }
}
