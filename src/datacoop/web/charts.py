"""Charts drawn on the server as inline SVG: no JavaScript, no third-party code, no CDN.

Each chart carries a ``<title>`` (its accessible name) and a ``<title>`` per bar; pages put
the same figures in a table next to it, which is what screen readers read.

    >>> svg = bar_chart([("Mon", 3), ("Tue", 0)], title="Answers", value_text=str)
    >>> svg.startswith('<svg class="chart"')
    True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from markupsafe import Markup, escape


def bar_chart(
    bars: Sequence[tuple[str, int]],
    *,
    title: str,
    value_text: Callable[[int], str],
    width: int = 640,
    height: int = 180,
    label_every: int = 7,
    chart_id: str = "chart",
) -> Markup:
    """Vertical bars, one per ``(label, value)``, scaled to the largest value (integers only).

    ``value_text`` formats a value for the bar tooltips and the top of the axis (money: the
    ``money`` formatter with the currency). The last label and every ``label_every``-th one
    before it are drawn under their bars. ``chart_id`` must be unique within the page.
    """
    left, bottom, top = 8, 22, 18
    plot_w, plot_h = width - 2 * left, height - bottom - top
    peak = max((v for _, v in bars), default=0)
    slot = plot_w / max(len(bars), 1)
    parts = [
        f'<svg class="chart" role="img" aria-labelledby="{chart_id}" viewBox="0 0 {width} {height}" '
        f'width="100%" preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}">{escape(title)}</title>',
        f'<text x="{left}" y="12" class="chart-axis">max {escape(value_text(peak))}</text>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" '
        'class="chart-base"/>',
    ]
    for i, (label, value) in enumerate(bars):
        h = 0.0 if peak == 0 else plot_h * value / peak
        x = left + i * slot + slot * 0.15
        y = top + plot_h - h
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}" '
            f'class="chart-bar"><title>{escape(label)}: {escape(value_text(value))}</title></rect>'
        )
        if (len(bars) - 1 - i) % label_every == 0:
            parts.append(
                f'<text x="{x + slot * 0.35:.1f}" y="{height - 6}" text-anchor="middle" '
                f'class="chart-label">{escape(label)}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))
