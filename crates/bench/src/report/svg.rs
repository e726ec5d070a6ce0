//! `run-times.svg`: per program, one bar per runtime showing its run time
//! relative to the native build, on a log scale (interpreters and JITs
//! differ by orders of magnitude, which a linear axis would flatten).
//!
//! Written by hand: the chart is a few dozen rectangles and labels.

use std::fmt::Write as _;

use crate::results::{ProgramResult, Results, Role, RuntimeInfo};

/// Bar colours of Kiln's backends: warm, so Kiln stands out.
const KILN_COLOURS: &[&str] = &["#d9480f", "#f08c00", "#c2255c"];

/// Bar colours of the other runtimes: cool, in runtime order.
const PEER_COLOURS: &[&str] = &[
    "#1864ab", "#4dabf7", "#a5d8ff", "#2b8a3e", "#8ce99a", "#5f3dc4", "#868e96", "#0b7285",
];

const BAR_WIDTH: f64 = 14.0;
const GROUP_GAP: f64 = 22.0;
const PLOT_HEIGHT: f64 = 320.0;
const LEFT: f64 = 64.0;
const TOP: f64 = 56.0;
const RIGHT: f64 = 24.0;

/// The chart for `results`.
pub fn render(results: &Results) -> String {
    // Run-time programs are the point of the chart; large modules only
    // appear when they are all there is.
    let mut programs: Vec<&ProgramResult> = results.programs.iter().filter(|p| !p.large).collect();
    if programs.is_empty() {
        programs = results.programs.iter().collect();
    }
    let shown: Vec<&RuntimeInfo> = results
        .runtimes
        .iter()
        .filter(|r| r.found && r.role != Role::Native)
        // Only runtimes raced on these programs get a slot.
        .filter(|r| {
            programs
                .iter()
                .any(|p| p.pairs.iter().any(|pair| pair.runtime == r.name))
        })
        .collect();
    let runtimes: Vec<&str> = shown.iter().map(|r| r.name.as_str()).collect();
    let colours = colours(&shown);

    // Each bar: (program index, runtime index, ratio to native or why not).
    let mut bars = Vec::new();
    for (p, program) in programs.iter().enumerate() {
        let native = median_run(program, "native");
        for (r, runtime) in runtimes.iter().enumerate() {
            let pair = program.pairs.iter().find(|pair| pair.runtime == *runtime);
            let bar = match (pair, native) {
                (None, _) => continue,
                (Some(pair), _) if !pair.ok() => Err(format!(
                    "failed: {}",
                    pair.failure.as_ref().map_or("", |f| f.reason.as_str())
                )),
                (Some(_), None) => Err("no native run to compare with".to_string()),
                (Some(pair), Some(native)) => match pair.run.as_ref() {
                    Some(run) if native > 0.0 => Ok((run.median / native, run.median)),
                    _ => Err("no run time".to_string()),
                },
            };
            bars.push((p, r, bar));
        }
    }
    let ratios: Vec<f64> = bars
        .iter()
        .filter_map(|(_, _, b)| b.as_ref().ok().map(|&(ratio, _)| ratio))
        .collect();
    let (lo, hi) = decade_range(&ratios);

    let group_width = runtimes.len().max(1) as f64 * BAR_WIDTH + GROUP_GAP;
    // Wide enough for the title even with one program.
    let plot_width = (programs.len().max(1) as f64 * group_width).max(480.0);
    let legend_columns = ((plot_width + LEFT) / 190.0).floor().max(1.0) as usize;
    let legend_rows = runtimes.len().div_ceil(legend_columns).max(1);
    let width = LEFT + plot_width + RIGHT;
    let bottom = TOP + PLOT_HEIGHT;
    let height = bottom + 56.0 + legend_rows as f64 * 20.0 + 12.0;
    let y_of = |ratio: f64| bottom - (ratio.log10() - lo) / (hi - lo) * PLOT_HEIGHT;

    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(
        svg,
        r#"<rect x="0" y="0" width="{width:.0}" height="{height:.0}" fill="white"/>"#
    );
    let _ = writeln!(
        svg,
        r#"<text x="{LEFT}" y="22" font-size="16" font-weight="bold">Run time relative to native (log scale, lower is better)</text>"#
    );
    let _ = writeln!(
        svg,
        r##"<text x="{LEFT}" y="40" fill="#555">{} — median of {} runs — {}</text>"##,
        escape(&results.machine.cpu),
        results.settings.runs,
        escape(&results.started_utc)
    );

    // Decade grid lines and their labels.
    for decade in (lo as i32)..=(hi as i32) {
        let y = y_of(10f64.powi(decade));
        let (stroke, dash) = if decade == 0 {
            ("#333", "")
        } else {
            ("#ddd", r#" stroke-dasharray="4 3""#)
        };
        let _ = writeln!(
            svg,
            r#"<line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="{stroke}"{dash}/>"#,
            LEFT + plot_width
        );
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            LEFT - 6.0,
            y + 4.0,
            decade_label(decade)
        );
    }
    let _ = writeln!(
        svg,
        r##"<text x="14" y="{:.1}" transform="rotate(-90 14 {:.1})" text-anchor="middle" fill="#555">× native run time</text>"##,
        TOP + PLOT_HEIGHT / 2.0,
        TOP + PLOT_HEIGHT / 2.0
    );

    for (p, program) in programs.iter().enumerate() {
        let x = LEFT + p as f64 * group_width + GROUP_GAP / 2.0;
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            x + group_width / 2.0 - GROUP_GAP / 2.0,
            bottom + 18.0,
            escape(&program.name)
        );
    }
    for (p, r, bar) in &bars {
        let x = LEFT + *p as f64 * group_width + GROUP_GAP / 2.0 + *r as f64 * BAR_WIDTH;
        let colour = colours[*r];
        let program = &programs[*p].name;
        let runtime = runtimes[*r];
        match bar {
            Ok((ratio, seconds)) => {
                let y = y_of(*ratio);
                let _ = writeln!(
                    svg,
                    r#"<rect class="bar" x="{x:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" fill="{colour}"><title>{} on {}: {:.2}× native ({})</title></rect>"#,
                    BAR_WIDTH - 2.0,
                    (bottom - y).max(0.5),
                    escape(program),
                    escape(runtime),
                    ratio,
                    escape(&crate::suite::seconds(*seconds))
                );
            }
            Err(why) => {
                let _ = writeln!(
                    svg,
                    r##"<text class="missing" x="{:.1}" y="{:.1}" text-anchor="middle" fill="#c92a2a" font-weight="bold">×<title>{} on {}: {}</title></text>"##,
                    x + (BAR_WIDTH - 2.0) / 2.0,
                    bottom - 4.0,
                    escape(program),
                    escape(runtime),
                    escape(why)
                );
            }
        }
    }

    let legend_top = bottom + 40.0;
    for (r, runtime) in runtimes.iter().enumerate() {
        let x = LEFT + (r % legend_columns) as f64 * 190.0;
        let y = legend_top + (r / legend_columns) as f64 * 20.0;
        let _ = writeln!(
            svg,
            r#"<rect x="{x:.1}" y="{:.1}" width="12" height="12" fill="{}"/><text x="{:.1}" y="{:.1}">{}</text>"#,
            y - 10.0,
            colours[r],
            x + 18.0,
            y,
            escape(runtime)
        );
    }
    let _ = writeln!(
        svg,
        r##"<text x="{:.1}" y="{:.1}" text-anchor="end" fill="#c92a2a">× = failed or not run</text>"##,
        LEFT + plot_width,
        legend_top + legend_rows as f64 * 20.0
    );
    svg.push_str("</svg>\n");
    svg
}

/// One colour per runtime: Kiln's from the warm list, the others' from
/// the cool one (each list reused from its start when exhausted).
fn colours(runtimes: &[&RuntimeInfo]) -> Vec<&'static str> {
    let (mut kiln, mut peer) = (0, 0);
    runtimes
        .iter()
        .map(|r| {
            let (list, next) = if r.role == Role::Kiln {
                (KILN_COLOURS, &mut kiln)
            } else {
                (PEER_COLOURS, &mut peer)
            };
            *next += 1;
            list[(*next - 1) % list.len()]
        })
        .collect()
}

/// The median run time of `runtime` on `program`, if it succeeded.
fn median_run(program: &ProgramResult, runtime: &str) -> Option<f64> {
    let pair = program.pairs.iter().find(|p| p.runtime == runtime)?;
    pair.ok().then_some(())?;
    pair.run.as_ref().map(|m| m.median)
}

/// The log10 range of the axis: whole decades covering every ratio and
/// 1× (the native line), at least one decade tall.
fn decade_range(ratios: &[f64]) -> (f64, f64) {
    let logs = ratios.iter().filter(|r| **r > 0.0).map(|r| r.log10());
    let lo = logs.clone().fold(0.0f64, f64::min).floor();
    let hi = logs.fold(0.0f64, f64::max).ceil();
    (lo, hi.max(lo + 1.0))
}

/// `10^decade` as an axis label: `0.1×`, `1×`, `100×`.
fn decade_label(decade: i32) -> String {
    if decade >= 0 {
        format!("{}×", 10u64.pow(decade as u32))
    } else {
        format!("{}×", 10f64.powi(decade))
    }
}

/// `text` with XML's special characters escaped.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::sample_results;

    /// Checks that every element is closed in order, attribute values are
    /// quoted, and no stray `<` or `&` appears in text: the parts of XML
    /// well-formedness a hand-written writer can get wrong.
    fn assert_well_formed(svg: &str) {
        let mut stack: Vec<String> = Vec::new();
        let mut rest = svg;
        while let Some(open) = rest.find('<') {
            let text = &rest[..open];
            assert_entities_ok(text);
            let close = rest[open..].find('>').expect("unclosed tag") + open;
            let tag = &rest[open + 1..close];
            assert!(!tag.contains('<'), "`<` inside a tag: {tag}");
            assert_eq!(tag.matches('"').count() % 2, 0, "unbalanced quotes: {tag}");
            if let Some(name) = tag.strip_prefix('/') {
                assert_eq!(
                    stack.pop().as_deref(),
                    Some(name.trim()),
                    "mismatched </{name}>"
                );
            } else if !tag.ends_with('/') {
                let name = tag.split_whitespace().next().unwrap().to_string();
                stack.push(name);
            }
            rest = &rest[close + 1..];
        }
        assert_entities_ok(rest);
        assert!(stack.is_empty(), "unclosed elements: {stack:?}");
    }

    fn assert_entities_ok(text: &str) {
        for (i, _) in text.match_indices('&') {
            let entity = &text[i..text[i..].find(';').map_or(text.len(), |e| i + e + 1)];
            assert!(
                ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"].contains(&entity),
                "bad entity {entity}"
            );
        }
    }

    #[test]
    fn is_well_formed_with_a_bar_per_runtime() {
        let svg = render(&sample_results());
        assert!(svg.starts_with("<svg"));
        assert_well_formed(&svg);
        // fib: kiln-interp and wasmtime-cranelift get bars, wasm3 failed.
        assert_eq!(svg.matches(r#"class="bar""#).count(), 2);
        assert!(svg.contains("fib on kiln-interp: 20.00× native"));
        assert!(svg.contains("fib on wasmtime-cranelift: 2.00× native"));
        assert_eq!(svg.matches(r#"class="missing""#).count(), 1);
        // The legend names every runtime found except native.
        for name in ["kiln-interp", "wasmtime-cranelift", "wasm3"] {
            assert!(svg.contains(&format!(">{name}</text>")), "{name}");
        }
        assert!(!svg.contains(">node</text>"));
    }

    #[test]
    fn escapes_text() {
        let mut results = sample_results();
        results.machine.cpu = "A <fast> & \"new\" CPU".into();
        let svg = render(&results);
        assert_well_formed(&svg);
        assert!(svg.contains("A &lt;fast&gt; &amp; &quot;new&quot; CPU"));
    }

    #[test]
    fn axis_covers_whole_decades_and_one() {
        assert_eq!(decade_range(&[]), (0.0, 1.0));
        assert_eq!(decade_range(&[2.0, 150.0]), (0.0, 3.0));
        assert_eq!(decade_range(&[0.5, 3.0]), (-1.0, 1.0));
        assert_eq!(decade_label(-1), "0.1×");
        assert_eq!(decade_label(2), "100×");
    }
}
