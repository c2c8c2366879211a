//! An objective's chart as SVG: the range query's samples as a line per
//! expression, the threshold as a horizontal line, and a title naming the
//! objective and its outcome. NaN and infinite samples break the line
//! rather than bend the axis.

use evidence::timestamp::Timestamp;
use plotters::prelude::*;

use super::response::Point;

/// What one chart shows.
pub(crate) struct Chart {
    pub title: String,
    pub y_label: String,
    /// Each line's legend and samples.
    pub lines: Vec<(String, Vec<Point>)>,
    pub threshold: f64,
    pub threshold_label: String,
    /// The time span shown, in seconds since the epoch.
    pub span: (i64, i64),
    /// The time axis' description, naming the span's dates.
    pub x_label: String,
}

const COLOURS: [RGBColor; 3] = [RGBColor(31, 119, 180), RGBColor(44, 160, 44), RGBColor(148, 103, 189)];

/// The chart as an SVG document.
pub(crate) fn render(chart: &Chart) -> Result<String, String> {
    let mut svg = String::new();
    draw(chart, &mut svg).map_err(|e| format!("the chart cannot be drawn: {e}"))?;
    Ok(svg)
}

fn draw<'s>(chart: &Chart, svg: &'s mut String) -> Result<(), Box<dyn std::error::Error + 's>> {
    let root = SVGBackend::with_string(svg, (900, 420)).into_drawing_area();
    root.fill(&WHITE)?;
    let (low, high) = y_range(chart);
    let (start, end) = (chart.span.0 as f64, chart.span.1.max(chart.span.0 + 1) as f64);
    let mut plot = ChartBuilder::on(&root)
        .caption(&chart.title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(80)
        .build_cartesian_2d(start..end, low..high)?;
    let clock = |t: &f64| Timestamp::from_unix(*t as i64).map(|s| s.to_string().get(11..16).unwrap_or_default().to_owned()).unwrap_or_default();
    plot.configure_mesh()
        .x_desc(chart.x_label.as_str())
        .y_desc(chart.y_label.as_str())
        .x_labels(8)
        .x_label_formatter(&clock)
        .y_label_formatter(&|v| super::evaluate::number(*v))
        .draw()?;
    for (i, (legend, points)) in chart.lines.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        // One legend entry per line, however many stretches NaN samples break it into.
        for (n, run) in runs(points).into_iter().enumerate() {
            let drawn = plot.draw_series(LineSeries::new(run, colour.stroke_width(2)))?;
            if n == 0 {
                drawn.label(legend.as_str()).legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], colour.stroke_width(2)));
            }
        }
    }
    let red = RGBColor(214, 39, 40);
    plot.draw_series(LineSeries::new([(start, chart.threshold), (end, chart.threshold)], red.stroke_width(1)))?
        .label(chart.threshold_label.as_str())
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], red.stroke_width(1)));
    plot.configure_series_labels().background_style(WHITE.mix(0.8)).border_style(BLACK).draw()?;
    root.present()?;
    Ok(())
}

/// The finite stretches of a line.
fn runs(points: &[Point]) -> Vec<Vec<Point>> {
    let mut runs = Vec::new();
    let mut run = Vec::new();
    for p in points {
        if p.1.is_finite() {
            run.push(*p);
        } else if !run.is_empty() {
            runs.push(std::mem::take(&mut run));
        }
    }
    if !run.is_empty() {
        runs.push(run);
    }
    runs
}

/// A y range that holds the threshold and every finite sample, with a margin.
fn y_range(chart: &Chart) -> (f64, f64) {
    let values = chart.lines.iter().flat_map(|(_, p)| p.iter().map(|(_, v)| *v)).filter(|v| v.is_finite()).chain([chart.threshold]);
    let (low, high) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| (l.min(v), h.max(v)));
    let pad = ((high - low) * 0.1).max(high.abs() * 0.001).max(1e-9);
    (low - pad, high + pad)
}
