//! Charts drawn on the server as SVG (they work without JavaScript and print), and CSV export
//! (UTF-8 with a byte-order mark so Excel opens Chinese text correctly).

use std::fmt::Write as _;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// Colours with at least 4.5:1 contrast on white.
const PALETTE: &[&str] = &["#1d4f91", "#b3261e", "#2e6b30", "#7a4b00", "#5b2c83", "#00606b"];

fn fmt_num(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{}", v.round() as i64)
    } else {
        format!("{v:.1}")
    }
}

/// Horizontal bars, one per row, value printed at the end of each bar.
pub fn bar_chart(title: &str, rows: &[(String, f64)], unit: &str) -> String {
    let bar_h = 22.0;
    let label_w = 190.0;
    let width = 640.0;
    let plot_w = width - label_w - 70.0;
    let height = 30.0 + rows.len().max(1) as f64 * (bar_h + 8.0);
    let max = rows.iter().map(|r| r.1).fold(0.0_f64, f64::max).max(1e-9);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="{t}" class="chart"><title>{t}</title>"#,
        t = esc(title)
    );
    let _ = write!(s, r##"<text x="0" y="16" font-size="14" font-weight="bold" fill="#1a1a1a">{}</text>"##, esc(title));
    if rows.is_empty() {
        let _ = write!(s, r##"<text x="0" y="44" font-size="13" fill="#444">暂无数据</text>"##);
    }
    for (i, (label, v)) in rows.iter().enumerate() {
        let y = 28.0 + i as f64 * (bar_h + 8.0);
        let w = (v / max * plot_w).max(if *v > 0.0 { 1.0 } else { 0.0 });
        let short: String = label.chars().take(14).collect();
        let _ = write!(
            s,
            r##"<text x="{lx}" y="{ty}" font-size="12" text-anchor="end" fill="#1a1a1a">{l}</text><rect x="{label_w}" y="{y}" width="{w:.1}" height="{bar_h}" fill="{c}"><title>{full}：{val}{u}</title></rect><text x="{vx:.1}" y="{ty}" font-size="12" fill="#1a1a1a">{val}{u}</text>"##,
            lx = label_w - 6.0,
            ty = y + 15.0,
            l = esc(&short),
            c = PALETTE[0],
            full = esc(label),
            val = fmt_num(*v),
            u = esc(unit),
            vx = label_w + w + 4.0,
        );
    }
    s.push_str("</svg>");
    s
}

/// Lines over time, one per series, with a legend.
pub fn line_chart(title: &str, x_labels: &[String], series: &[(String, Vec<f64>)]) -> String {
    let width = 640.0;
    let height = 260.0;
    let (left, right, top, bottom) = (40.0, 20.0, 30.0, 60.0);
    let plot_w = width - left - right;
    let plot_h = height - top - bottom;
    let max = series.iter().flat_map(|s| s.1.iter().copied()).fold(0.0_f64, f64::max).max(1.0);
    let n = x_labels.len().max(1);
    let x = |i: usize| left + if n > 1 { i as f64 * plot_w / (n - 1) as f64 } else { plot_w / 2.0 };
    let y = |v: f64| top + plot_h - v / max * plot_h;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="{t}" class="chart"><title>{t}</title>"#,
        t = esc(title)
    );
    let _ = write!(s, r##"<text x="0" y="16" font-size="14" font-weight="bold" fill="#1a1a1a">{}</text>"##, esc(title));
    let _ = write!(
        s,
        r##"<line x1="{left}" y1="{b}" x2="{r}" y2="{b}" stroke="#555"/><line x1="{left}" y1="{top}" x2="{left}" y2="{b}" stroke="#555"/><text x="{tx}" y="{ty}" font-size="11" text-anchor="end" fill="#1a1a1a">{m}</text>"##,
        b = top + plot_h,
        r = width - right,
        tx = left - 4.0,
        ty = top + 4.0,
        m = fmt_num(max)
    );
    for (i, l) in x_labels.iter().enumerate() {
        let _ = write!(
            s,
            r##"<text x="{:.1}" y="{:.1}" font-size="11" text-anchor="middle" fill="#1a1a1a">{}</text>"##,
            x(i),
            top + plot_h + 14.0,
            esc(l)
        );
    }
    for (k, (name, values)) in series.iter().enumerate() {
        let c = PALETTE[k % PALETTE.len()];
        let pts: Vec<String> = values.iter().enumerate().map(|(i, v)| format!("{:.1},{:.1}", x(i), y(*v))).collect();
        let _ = write!(s, r#"<polyline fill="none" stroke="{c}" stroke-width="2" points="{}"/>"#, pts.join(" "));
        for (i, v) in values.iter().enumerate() {
            let _ = write!(
                s,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{c}"><title>{} {}：{}</title></circle>"#,
                x(i),
                y(*v),
                esc(name),
                esc(x_labels.get(i).map(String::as_str).unwrap_or("")),
                fmt_num(*v)
            );
        }
        let lx = left + (k % 3) as f64 * 200.0;
        let ly = height - 24.0 + (k / 3) as f64 * 14.0;
        let _ = write!(
            s,
            r##"<rect x="{lx}" y="{:.1}" width="10" height="10" fill="{c}"/><text x="{:.1}" y="{:.1}" font-size="11" fill="#1a1a1a">{}</text>"##,
            ly - 9.0,
            lx + 14.0,
            ly,
            esc(&name.chars().take(24).collect::<String>())
        );
    }
    s.push_str("</svg>");
    s
}

/// CSV with a BOM; cells that a spreadsheet would run as a formula are quoted with a leading
/// apostrophe (CSV injection).
pub fn csv(headers: &[&str], rows: &[Vec<String>]) -> String {
    let cell = |v: &str| {
        let v = if v.starts_with(['=', '+', '-', '@', '\t', '\r']) && v.parse::<f64>().is_err() { format!("'{v}") } else { v.to_string() };
        if v.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", v.replace('"', "\"\""))
        } else {
            v
        }
    };
    let mut out = String::from("\u{feff}");
    out.push_str(&headers.iter().map(|h| cell(h)).collect::<Vec<_>>().join(","));
    out.push_str("\r\n");
    for r in rows {
        out.push_str(&r.iter().map(|v| cell(v)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_escape_labels() {
        let svg = bar_chart("<t>", &[("<script>".into(), 3.0)], "件");
        assert!(!svg.contains("<script>"));
        assert!(svg.contains("&lt;script&gt;"));
        let svg = line_chart("x", &["1月".into()], &[("\"a\"".into(), vec![1.0])]);
        assert!(svg.contains("&quot;a&quot;"));
    }

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        let c = csv(&["名称", "数"], &[vec!["a,b".into(), "=1+1".into()], vec!["-5".into(), "x\"y".into()]]);
        assert!(c.starts_with('\u{feff}'));
        assert!(c.contains("\"a,b\",'=1+1"));
        assert!(c.contains("-5,\"x\"\"y\""));
    }
}
