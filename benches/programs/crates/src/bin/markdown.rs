//! Measures `pulldown-cmark`: a generated CommonMark document (headings,
//! paragraphs with inline markup, nested lists, code blocks, block quotes,
//! tables) parsed and rendered to HTML many times.
//!
//! Self-check: the rendered HTML must hold exactly as many headings, list
//! items, code blocks, links and table cells as the generator wrote, every
//! render must be identical, and the checksum over the HTML must match the
//! recorded constant.

use kiln_bench_programs::{Checksum, Rng, check, finish};
use pulldown_cmark::{Options, Parser, html};

const NAME: &str = "markdown";
const SECTIONS: u32 = 400;
const ROUNDS: u32 = 16;
const EXPECTED: u64 = 0xe2c0aadfcfb21d79;

const WORDS: &[&str] = &[
    "runtime",
    "module",
    "the",
    "a",
    "stack",
    "validates",
    "each",
    "function",
    "before",
    "it",
    "runs",
    "and",
    "compiles",
    "hot",
    "loops",
    "to",
    "native",
    "code",
    "<tag>",
    "&",
];

#[derive(Default, Debug, PartialEq)]
struct Counts {
    headings: usize,
    items: usize,
    code_blocks: usize,
    links: usize,
    cells: usize,
}

fn sentence(rng: &mut Rng, out: &mut String, counts: &mut Counts) {
    let n = rng.range(6, 16);
    for i in 0..n {
        if i > 0 {
            out.push(' ');
        }
        let w = rng.pick(WORDS);
        match rng.below(14) {
            0 => out.push_str(&format!("*{w}*")),
            1 => out.push_str(&format!("**{w}**")),
            2 => out.push_str(&format!("`{w}`")),
            3 => {
                out.push_str(&format!("[{w}](https://example.org/{w}?q={i})"));
                counts.links += 1;
            }
            _ => out.push_str(w),
        }
    }
    out.push('.');
}

fn generate(rng: &mut Rng) -> (String, Counts) {
    let mut doc = String::new();
    let mut counts = Counts::default();
    for s in 0..SECTIONS {
        doc.push_str(&format!("## Section {s}\n\n"));
        counts.headings += 1;
        for _ in 0..rng.range(1, 4) {
            for _ in 0..rng.range(1, 5) {
                sentence(rng, &mut doc, &mut counts);
                doc.push(if rng.chance(1, 3) { '\n' } else { ' ' });
            }
            doc.push_str("\n\n");
        }
        match rng.below(4) {
            0 => {
                for _ in 0..rng.range(2, 6) {
                    doc.push_str("- ");
                    sentence(rng, &mut doc, &mut counts);
                    doc.push('\n');
                    counts.items += 1;
                    if rng.chance(1, 3) {
                        doc.push_str("  1. nested ");
                        sentence(rng, &mut doc, &mut counts);
                        doc.push('\n');
                        counts.items += 1;
                    }
                }
                doc.push('\n');
            }
            1 => {
                doc.push_str("```rust\n");
                for line in 0..rng.range(3, 12) {
                    doc.push_str(&format!(
                        "let x{line} = f(\"*not emphasis*\") < {};\n",
                        rng.below(99)
                    ));
                }
                doc.push_str("```\n\n");
                counts.code_blocks += 1;
            }
            2 => {
                doc.push_str("| name | value | note |\n|---|---:|:---:|\n");
                counts.cells += 3;
                for _ in 0..rng.range(2, 8) {
                    doc.push_str(&format!(
                        "| {} | {} | _{}_ |\n",
                        rng.pick(WORDS).trim_matches(|c| c == '<' || c == '>'),
                        rng.below(10_000),
                        rng.pick(WORDS)
                    ));
                    counts.cells += 3;
                }
                doc.push('\n');
            }
            _ => {
                doc.push_str("> ");
                sentence(rng, &mut doc, &mut counts);
                doc.push_str("\n> \n> ");
                sentence(rng, &mut doc, &mut counts);
                doc.push_str("\n\n");
            }
        }
    }
    (doc, counts)
}

fn count_html(html: &str) -> Counts {
    Counts {
        headings: html.matches("<h2>").count(),
        items: html.matches("<li>").count(),
        code_blocks: html.matches("<pre><code").count(),
        links: html.matches("<a href=").count(),
        // "<th" alone would also match "<thead>".
        cells: ["<td>", "<td ", "<th>", "<th "]
            .iter()
            .map(|tag| html.matches(tag).count())
            .sum(),
    }
}

fn main() {
    let mut rng = Rng::new(0x5eed_0005);
    let (doc, want) = generate(&mut rng);
    let mut options = Options::empty();
    options.insert(Options::ENABLE_TABLES);
    options.insert(Options::ENABLE_STRIKETHROUGH);

    let mut sum = Checksum::new();
    let mut first: Option<String> = None;
    for round in 0..ROUNDS {
        let mut out = String::with_capacity(doc.len() * 2);
        html::push_html(&mut out, Parser::new_ext(&doc, options));
        match &first {
            None => {
                let got = count_html(&out);
                check(NAME, got == want, || {
                    format!("rendered {got:?}, generated {want:?}")
                });
                sum.bytes(out.as_bytes());
                first = Some(out);
            }
            Some(html) => {
                check(NAME, *html == out, || {
                    format!("round {round} rendered differently")
                });
            }
        }
    }
    finish(NAME, sum.finish(), EXPECTED);
}
