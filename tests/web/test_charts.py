"""Server-drawn SVG charts: scaled bars, escaped text, an accessible name."""

from __future__ import annotations

import re

from datacoop.web.charts import bar_chart


def test_bars_are_scaled_to_the_largest_value():
    svg = bar_chart([("a", 4), ("b", 0), ("c", 1)], title="Answers", value_text=str, height=180)
    heights = [float(h) for h in re.findall(r'<rect [^>]*height="([0-9.]+)"', svg)]
    assert heights == [140.0, 0.0, 35.0]  # plot height 180 - 22 - 18
    assert '<title id="chart">Answers</title>' in svg and 'aria-labelledby="chart"' in svg
    assert "<title>c: 1</title>" in svg and "max 4" in svg


def test_text_is_escaped_and_an_empty_chart_draws():
    svg = bar_chart([("<b>", 0)], title="a & b", value_text=lambda v: f"{v} <x>", chart_id="c2")
    assert "&lt;b&gt;" in svg and "a &amp; b" in svg and "0 &lt;x&gt;" in svg
    assert 'id="c2"' in svg and "<b>" not in svg
    assert bar_chart([], title="none", value_text=str).endswith("</svg>")


def test_only_some_labels_are_drawn():
    bars = [(f"d{i}", i) for i in range(30)]
    svg = bar_chart(bars, title="t", value_text=str, label_every=7)
    labels = re.findall(r'class="chart-label">([^<]+)<', svg)
    assert labels == ["d1", "d8", "d15", "d22", "d29"]
