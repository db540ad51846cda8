//! What a user types into `/recall` (or the model into `recall`) turned into an FTS5 query that
//! cannot fail to parse and cannot do more than match words: every term is a double-quoted
//! string of letters and digits, so FTS5 operators (`NEAR`, `AND`, `OR`, `NOT`, `-`, `^`, `+`),
//! column filters (`text:`), parentheses and stray quotes are only ever words or nothing.
//!
//! Kept: phrases in double quotes (`"locker code"`) and prefixes (`contr*`, at least two
//! letters before the star). An unbalanced quote is read as if it were not there.

/// Most characters of a query looked at.
const MAX_QUERY_CHARS: usize = 500;
/// Most terms (words or phrases) in a query.
const MAX_TERMS: usize = 12;
/// Most words in one phrase.
const MAX_PHRASE_WORDS: usize = 12;
/// Fewest letters before `*` for a prefix search (`a*` would match nearly everything).
const MIN_PREFIX_CHARS: usize = 2;

/// One thing to look for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Term {
    /// Words that must follow each other (a single word is a phrase of one).
    Phrase(Vec<String>),
    /// Words starting with this.
    Prefix(String),
}

/// A user's search, parsed; renders as FTS5 query text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecallQuery {
    terms: Vec<Term>,
}

impl RecallQuery {
    /// Parses `input`; `None` when it holds no word to look for.
    pub fn parse(input: &str) -> Option<Self> {
        let input: String = input.chars().take(MAX_QUERY_CHARS).collect();
        let mut terms = Vec::new();
        let quotes = input.matches('"').count();
        // With an odd number of quotes the last one has no partner: ignore it.
        let usable_quotes = quotes - quotes % 2;
        let mut seen_quotes = 0;
        let mut rest = input.as_str();
        while !rest.is_empty() && terms.len() < MAX_TERMS {
            match rest.find('"') {
                Some(at) if seen_quotes < usable_quotes => {
                    words_into(&rest[..at], &mut terms);
                    let after = &rest[at + 1..];
                    let end = after.find('"').unwrap_or(after.len());
                    let words: Vec<String> = split_words(&after[..end])
                        .map(|(w, _)| w)
                        .take(MAX_PHRASE_WORDS)
                        .collect();
                    if !words.is_empty() {
                        terms.push(Term::Phrase(words));
                    }
                    seen_quotes += 2;
                    rest = after.get(end + 1..).unwrap_or("");
                }
                _ => {
                    words_into(&rest.replace('"', " "), &mut terms);
                    rest = "";
                }
            }
        }
        terms.truncate(MAX_TERMS);
        // "what was my locker code": the little words match nearly every row and would crowd
        // the rare ones out of the newest candidates; drop them when anything else is left.
        let is_little =
            |t: &Term| matches!(t, Term::Phrase(w) if w.len() == 1 && is_stopword(&w[0]));
        if terms.iter().any(|t| !is_little(t)) {
            terms.retain(|t| !is_little(t));
        }
        (!terms.is_empty()).then_some(Self { terms })
    }

    /// Every term required (`"a" "b"`): the first thing to try.
    pub fn all_terms(&self) -> String {
        self.render(" ")
    }

    /// Any term will do (`"a" OR "b"`): the fallback when nothing has every term.
    pub fn any_term(&self) -> String {
        self.render(" OR ")
    }

    /// Whether there is more than one term (else both renderings are the same).
    pub fn has_several_terms(&self) -> bool {
        self.terms.len() > 1
    }

    /// Whether a term is a phrase of two or more words (the costly kind when its words are
    /// common: FTS5 reads every row holding them to find where they follow each other).
    pub(super) fn has_long_phrase(&self) -> bool {
        self.terms
            .iter()
            .any(|t| matches!(t, Term::Phrase(words) if words.len() > 1))
    }

    /// Each term's words as FTS5 queries of one word (`"word"`), or `None` for a prefix.
    pub(super) fn term_words(&self) -> Vec<Option<Vec<String>>> {
        self.terms
            .iter()
            .map(|t| match t {
                Term::Phrase(words) => Some(words.iter().map(|w| format!("\"{w}\"")).collect()),
                Term::Prefix(_) => None,
            })
            .collect()
    }

    fn render(&self, joiner: &str) -> String {
        let parts: Vec<String> = self
            .terms
            .iter()
            .map(|t| match t {
                Term::Phrase(words) => format!("\"{}\"", words.join(" ")),
                Term::Prefix(stem) => format!("\"{stem}\"*"),
            })
            .collect();
        parts.join(joiner)
    }
}

/// Common English words that say nothing about what to find.
const STOPWORDS: &[&str] = &[
    "a", "about", "am", "an", "and", "are", "as", "at", "be", "did", "do", "does", "for", "from",
    "had", "has", "have", "how", "i", "i'm", "in", "is", "it", "me", "my", "of", "on", "or", "our",
    "said", "say", "tell", "that", "the", "this", "to", "told", "was", "we", "were", "what",
    "when", "where", "which", "who", "why", "you", "your",
];

/// Whether `word` is one of [`STOPWORDS`] (any case).
fn is_stopword(word: &str) -> bool {
    let lower = word.to_lowercase();
    STOPWORDS.contains(&lower.as_str())
}

/// Adds the words of unquoted `text` to `terms`, a trailing `*` making a prefix.
fn words_into(text: &str, terms: &mut Vec<Term>) {
    for (word, starred) in split_words(text) {
        if terms.len() >= MAX_TERMS {
            return;
        }
        if starred && word.chars().count() >= MIN_PREFIX_CHARS {
            terms.push(Term::Prefix(word));
        } else {
            terms.push(Term::Phrase(vec![word]));
        }
    }
}

/// The runs of letters and digits in `text`, each with whether a `*` follows it directly.
fn split_words(text: &str) -> impl Iterator<Item = (String, bool)> + '_ {
    let mut chars = text.char_indices().peekable();
    std::iter::from_fn(move || {
        loop {
            let (start, c) = chars.next()?;
            if !is_word_char(c) {
                continue;
            }
            let mut end = start + c.len_utf8();
            while let Some(&(i, c)) = chars.peek() {
                if !is_word_char(c) {
                    break;
                }
                end = i + c.len_utf8();
                chars.next();
            }
            let starred = chars.next_if(|&(_, c)| c == '*').is_some();
            return Some((text[start..end].to_string(), starred));
        }
    })
}

/// What FTS5's unicode61 tokenizer keeps inside a token: letters, digits and marks.
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || unicode_mark(c)
}

/// Combining marks (accents written as separate characters), which belong to their word.
fn unicode_mark(c: char) -> bool {
    matches!(u32::from(c), 0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(input: &str) -> Option<String> {
        RecallQuery::parse(input).map(|q| q.all_terms())
    }

    #[test]
    fn words_phrases_and_prefixes_are_kept() {
        assert_eq!(all("locker code").unwrap(), r#""locker" "code""#);
        assert_eq!(
            all(r#""locker code" 47*"#).unwrap(),
            r#""locker code" "47"*"#
        );
        assert_eq!(all("contr* x*").unwrap(), r#""contr"* "x""#);
        assert_eq!(
            RecallQuery::parse("x y").unwrap().any_term(),
            r#""x" OR "y""#
        );
    }

    #[test]
    fn fts_syntax_becomes_words_or_nothing() {
        assert_eq!(all("NEAR(x y)").unwrap(), r#""NEAR" "x" "y""#);
        assert_eq!(
            all("text:secret -user_id").unwrap(),
            r#""text" "secret" "user" "id""#
        );
        assert_eq!(
            all(r#"unbalanced "quote here"#).unwrap(),
            r#""unbalanced" "quote" "here""#
        );
        assert_eq!(all(r#"x "b c" "d"#).unwrap(), r#""x" "b c" "d""#);
        assert_eq!(all("^start + OR AND NOT"), Some(r#""start" "NOT""#.into()));
        assert_eq!(all(r#"" " * - : ( ) ""#), None);
        assert_eq!(all(""), None);
    }

    #[test]
    fn little_words_are_dropped_unless_nothing_else_is_left() {
        assert_eq!(
            all("What was my locker code?").unwrap(),
            r#""locker" "code""#
        );
        assert_eq!(all("what was it").unwrap(), r#""what" "was" "it""#);
        assert_eq!(all(r#""the end" of it"#).unwrap(), r#""the end""#);
    }

    #[test]
    fn a_huge_query_is_bounded() {
        let query = "word ".repeat(100_000);
        let parsed = RecallQuery::parse(&query).unwrap();
        assert_eq!(parsed.terms.len(), MAX_TERMS);
    }

    #[test]
    fn non_latin_words_and_accents_are_words() {
        assert_eq!(
            all("Schlüssel café—код").unwrap(),
            r#""Schlüssel" "café" "код""#
        );
    }
}
