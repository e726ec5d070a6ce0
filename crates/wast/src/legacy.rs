//! The folded syntax of the legacy exception instructions, which the
//! `wast` crate no longer parses: `(try $l? bt (do instr*) (catch $t
//! instr*)* (catch_all instr*)?)` and `(try $l? bt (do instr*) (delegate
//! $l))`, as the spec's `legacy/` scripts write them. [`unfold`] rewrites
//! each into the flat form `wast` still knows (`try $l? bt instr* catch $t
//! instr* ... end`, or `... delegate $l`), in place: only parentheses and
//! the `do` keyword go, and `end` replaces the closing parenthesis, so
//! every line keeps its number and a directive's position stays the one
//! the script's author sees.
//!
//! The rewrite works on tokens, so strings (a `module quote`'s text) and
//! comments are left alone. Every `(try` it finds is in a place where the
//! legacy scripts put instructions; a folded `try` as the operand of
//! another folded instruction would need a different rewrite, and has no
//! use in those scripts.

use std::borrow::Cow;

/// `text` with every folded legacy `try` unfolded (borrowed unchanged when
/// there is none).
pub(crate) fn unfold(text: &str) -> Cow<'_, str> {
    if !text.contains("(try") {
        return Cow::Borrowed(text);
    }
    let tokens = tokenize(text);
    let mut edits: Vec<(usize, usize, &'static str)> = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        if t.kind == Kind::Open && atom_at(text, &tokens, i + 1) == Some("try") {
            unfold_try(text, &tokens, i, &mut edits);
        }
    }
    if edits.is_empty() {
        return Cow::Borrowed(text);
    }
    edits.sort_unstable_by_key(|e| e.0);
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    for (start, end, with) in edits {
        out.push_str(&text[pos..start]);
        out.push_str(with);
        pos = end;
    }
    out.push_str(&text[pos..]);
    Cow::Owned(out)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Open,
    Close,
    Atom,
    Str,
}

#[derive(Clone, Copy, Debug)]
struct Token {
    kind: Kind,
    start: usize,
    end: usize,
}

/// The text's tokens, without whitespace and comments (`;;` to the end of
/// the line, nested `(; ;)`).
fn tokenize(text: &str) -> Vec<Token> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            c if c.is_ascii_whitespace() => i += 1,
            b';' if b.get(i + 1) == Some(&b';') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'(' if b.get(i + 1) == Some(&b';') => {
                let mut depth = 0usize;
                while i < b.len() {
                    if b[i] == b'(' && b.get(i + 1) == Some(&b';') {
                        depth += 1;
                        i += 2;
                    } else if b[i] == b';' && b.get(i + 1) == Some(&b')') {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
            }
            b'(' => {
                out.push(Token {
                    kind: Kind::Open,
                    start: i,
                    end: i + 1,
                });
                i += 1;
            }
            b')' => {
                out.push(Token {
                    kind: Kind::Close,
                    start: i,
                    end: i + 1,
                });
                i += 1;
            }
            b'"' => {
                let start = i;
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i = (i + 1).min(b.len());
                out.push(Token {
                    kind: Kind::Str,
                    start,
                    end: i,
                });
            }
            _ => {
                let start = i;
                while i < b.len()
                    && !b[i].is_ascii_whitespace()
                    && !matches!(b[i], b'(' | b')' | b'"' | b';')
                {
                    i += 1;
                }
                out.push(Token {
                    kind: Kind::Atom,
                    start,
                    end: i,
                });
            }
        }
    }
    out
}

fn atom_at<'t>(text: &'t str, tokens: &[Token], i: usize) -> Option<&'t str> {
    let t = tokens.get(i)?;
    (t.kind == Kind::Atom).then(|| &text[t.start..t.end])
}

/// The index of the `)` that closes the `(` at `open`, if any.
fn closing(tokens: &[Token], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, t) in tokens.iter().enumerate().skip(open) {
        match t.kind {
            Kind::Open => depth += 1,
            Kind::Close => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Records the edits that unfold the `try` whose `(` is token `open`.
/// Nested ones are found by the caller's scan. A malformed form is left
/// as it is, for `wast` to report.
fn unfold_try(
    text: &str,
    tokens: &[Token],
    open: usize,
    edits: &mut Vec<(usize, usize, &'static str)>,
) {
    let Some(close) = closing(tokens, open) else {
        return;
    };
    // Removed tokens become a space, so neighbours never merge.
    let mut mine = vec![(tokens[open].start, tokens[open].end, " ")];
    let mut delegated = false;
    let mut i = open + 2;
    while i < close {
        if tokens[i].kind != Kind::Open {
            i += 1;
            continue;
        }
        let Some(end) = closing(tokens, i) else {
            return;
        };
        match atom_at(text, tokens, i + 1) {
            Some("do") => {
                mine.push((tokens[i].start, tokens[i + 1].end, " "));
                mine.push((tokens[end].start, tokens[end].end, " "));
            }
            Some(kw @ ("catch" | "catch_all" | "delegate")) => {
                delegated |= kw == "delegate";
                mine.push((tokens[i].start, tokens[i].end, " "));
                mine.push((tokens[end].start, tokens[end].end, " "));
            }
            // Block type parts stay as they are.
            _ => {}
        }
        i = end + 1;
    }
    let last = if delegated { " " } else { " end " };
    mine.push((tokens[close].start, tokens[close].end, last));
    edits.extend(mine);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_try_becomes_flat_keeping_lines() {
        let src = "(func (try (result i32)\n  (do (i32.const 1))\n  (catch $e (i32.const 2)) (catch_all (i32.const 3))))";
        let out = unfold(src);
        let words: Vec<&str> = out.split_whitespace().collect();
        assert_eq!(
            words.join(" "),
            "(func try (result i32) (i32.const 1) catch $e (i32.const 2) catch_all (i32.const 3) end )"
        );
        assert_eq!(out.lines().count(), src.lines().count());
    }

    #[test]
    fn delegate_ends_the_try_and_nesting_works() {
        let src = "(try $l (do (try (do (nop))(delegate $l)))(catch_all))";
        let out = unfold(src);
        let words: Vec<&str> = out.split_whitespace().collect();
        assert_eq!(
            words.join(" "),
            "try $l try (nop) delegate $l catch_all end"
        );
    }

    #[test]
    fn strings_comments_and_try_table_are_left_alone() {
        let src = "(module quote \"(try (do))\") ;; (try (do))\n(try_table (do))";
        assert!(matches!(unfold(src), Cow::Borrowed(_)));
    }
}
