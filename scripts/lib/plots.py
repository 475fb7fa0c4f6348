"""plots.py — what the report's and compare's charts share: matplotlib set up for SVG, one colour per
runtime/mechanism, time axes in ns/µs/ms, and the three shapes they draw: rows of dots with
confidence whiskers, curves, and annotated heat maps. Each chart is saved as SVG (and PNG when asked)
and handed back as SVG text for inlining.
"""
import io
import math
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import colors as mcolors  # noqa: E402
from matplotlib import ticker  # noqa: E402

import doc  # noqa: E402

plt.rcParams.update({
    "svg.fonttype": "none",        # text stays text: small files, crisp at any zoom
    "svg.hashsalt": "ffibench",    # ids the same from run to run
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#d0d7de",
    "grid.linewidth": 0.6,
    "legend.frameon": False,
    "legend.fontsize": 8,
})

WIDTH = 9.0   # inches: a chart of its own (864 px at 96 dpi, the size it is shown at)
WIDE = 12.5   # inches: small multiples, the report's whole column (1200 px)
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
PALETTE = plt.get_cmap("tab10").colors + plt.get_cmap("Dark2").colors


def colours(keys):
    """A stable colour for each key (runtime/mechanism), in the order given."""
    return {k: PALETTE[i % len(PALETTE)] for i, k in enumerate(keys)}


def figure(rows=None, ncols=1, height=None):
    """A figure of one chart (or ncols side by side); tall enough for `rows` labelled rows when given."""
    if height is None:
        height = 3.4 if rows is None else max(1.6, 0.9 + 0.24 * rows)
    fig, axes = plt.subplots(1, ncols, figsize=(WIDTH, height), layout="constrained", squeeze=False)
    return fig, list(axes[0])


def grid(heights, ncols, legend_row=0.0):
    """Small multiples: len(heights) panels, ncols to a row, the whole column wide; heights[i] is
    panel i's height in inches (a row of panels is as tall as its tallest). With legend_row > 0, a row
    of that height above the panels for one legend shared by all (see legend_row). Returns (fig,
    axes of the panels, the legend row's axes or None); cells left over are not drawn."""
    wanted = ncols
    ncols = max(1, min(ncols, len(heights)))
    nrows = -(-len(heights) // ncols)
    row_h = [max(heights[r * ncols:(r + 1) * ncols]) for r in range(nrows)]
    ratios = ([legend_row] if legend_row else []) + row_h
    # fewer panels than a row holds: each as wide as in a full row, not stretched
    fig = plt.figure(figsize=(WIDE * ncols / wanted, sum(ratios)), layout="constrained")
    gs = fig.add_gridspec(len(ratios), ncols, height_ratios=ratios)
    top = 1 if legend_row else 0
    legend_ax = None
    if legend_row:
        legend_ax = fig.add_subplot(gs[0, :])
        legend_ax.axis("off")
    axes = [fig.add_subplot(gs[top + i // ncols, i % ncols]) for i in range(len(heights))]
    return fig, axes, legend_ax


def tag_legend(legend):
    """Names each legend entry in the SVG (ids legend<k>-entry<i>-text and -handle), so a browser test
    can measure every entry's box and find two that overlap."""
    fig = legend.figure
    k = getattr(fig, "_ffibench_legends", 0)
    fig._ffibench_legends = k + 1
    handles = getattr(legend, "legend_handles", None) or getattr(legend, "legendHandles", [])
    for i, (handle, text) in enumerate(zip(handles, legend.get_texts())):
        text.set_gid(f"legend{k}-entry{i}-text")
        if handle is not None:
            handle.set_gid(f"legend{k}-entry{i}-handle")
    return legend


def legend_right(ax):
    """The legend beside the panel, one entry a line: entries cannot run into each other or into the
    data, and constrained layout leaves it room."""
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        tag_legend(ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0,
                             handlelength=1.6, handletextpad=0.4, fontsize=8))


def legend_row(ax, handles, labels, ncols):
    """One legend for a whole figure, in the row grid() kept for it: as many columns as fit in the
    figure's width (at most ncols), so no entry is cut off at its edges."""
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    for n in range(min(ncols, len(handles)), 0, -1):
        legend = ax.legend(handles, labels, loc="center", ncols=n, fontsize=8.5, handletextpad=0.4,
                           columnspacing=1.8, borderaxespad=0)
        if n == 1 or legend.get_window_extent(renderer).width <= 0.97 * fig.bbox.width:
            break
        legend.remove()
    tag_legend(legend)


def proxy(colour, marker, label):
    """A legend entry for a series of dots drawn in several panels."""
    from matplotlib.lines import Line2D
    return Line2D([], [], color=colour, marker=marker, ls="none", ms=5.5, label=label)


def time_axis(ax, which="x"):
    """Labels an axis of times given in ns (call after plotting): ticks in the unit that suits each
    (1 ns, 20 µs...). A log axis spanning less than a decade turns linear, so it still has ticks;
    one spanning a few decades gets ticks at 1, 2 and 5 of each."""
    axis = ax.xaxis if which == "x" else ax.yaxis
    lo, hi = sorted(ax.get_xlim() if which == "x" else ax.get_ylim())
    if axis.get_scale() == "log" and lo > 0:
        decades = math.log10(hi / lo)
        if decades < 1:
            (ax.set_xscale if which == "x" else ax.set_yscale)("linear")
            axis.set_major_locator(ticker.MaxNLocator(4, min_n_ticks=2))
        else:
            axis.set_major_locator(ticker.LogLocator(base=10, subs=(1.0,) if decades > 3 else (1.0, 2.0, 5.0),
                                                     numticks=7))
            axis.set_minor_locator(ticker.LogLocator(base=10, subs=tuple(range(2, 10))))
            axis.set_minor_formatter(ticker.NullFormatter())
    axis.set_major_formatter(ticker.FuncFormatter(tick_duration))


def tick_duration(ns, _=None):
    """A tick label for a time in ns: 1 ns, 20 ns, 1 µs, 2.5 ms."""
    if ns <= 0:
        return "0"
    for scale, unit in doc.TIME_UNITS:
        if ns >= scale:
            return f"{ns / scale:g} {unit}"
    return f"{ns:g} ns"


def legend_above(ax, ncols=4):
    """The legend in a row above the plot, where it hides no data; each column as wide as its widest
    entry (no 'expand' mode, which squeezed entries into each other). Give the title room with
    set_title(pad=...)."""
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        tag_legend(ax.legend(handles, labels, loc="lower center", bbox_to_anchor=(0.5, 1.01), ncols=ncols,
                             borderaxespad=0, handletextpad=0.3, columnspacing=1.5, fontsize=8))


def count_axis(axis, unit=None):
    """A log axis of counts (batch sizes: 1, 16, 1024) or, with unit=doc.bytes_, of sizes
    (8 B, 4 KiB, 1 MiB)."""
    label = (lambda v, _: unit(int(v))) if unit else (lambda v, _: f"{v:g}")
    axis.set_major_formatter(ticker.FuncFormatter(label))
    axis.set_minor_formatter(ticker.NullFormatter())


def dot_rows(ax, rows, series, log=True):
    """Rows of dots with whiskers, first row at the top: rows is the list of row labels; each series
    is {"label", "points": {row: (value, lo, hi)}, optional "colour" or "colours": {row: colour},
    optional "marker"}. Whiskers are drawn where lo and hi are numbers. On a log axis, values <= 0
    cannot be drawn: their rows are returned, so the caption can say so."""
    skipped = []
    k = len(series)
    for i, s in enumerate(series):
        offset = (i - (k - 1) / 2) * min(0.22, 0.8 / max(k, 1))
        marker = s.get("marker", MARKERS[i % len(MARKERS)])
        label = s["label"]  # on the first point drawn only, so the legend has one entry per series
        for r, row in enumerate(rows):
            if row not in s["points"]:
                continue
            v, lo, hi = s["points"][row]
            if doc.missing(v) or (log and v <= 0):
                skipped.append(row)
                continue
            colour = s.get("colours", {}).get(row, s.get("colour", PALETTE[i % len(PALETTE)]))
            y = r + offset
            if not (doc.missing(lo) or doc.missing(hi)) and (not log or lo > 0):
                ax.plot([lo, hi], [y, y], color=colour, lw=1.4, alpha=0.75, solid_capstyle="butt")
            ax.plot([v], [y], marker=marker, color=colour, ms=5.5, ls="none", label=label)
            label = None
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels(rows)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.grid(axis="y", visible=False)
    if log:
        ax.set_xscale("log")
    return sorted(set(skipped))


def curves(ax, lines, logx=True, logy=True):
    """One line per entry {"label", "colour", "xs", "ys", optional "lo", "hi", "ls", "marker",
    "whiskers" (False: none)} with markers and, where given, confidence whiskers."""
    for i, line in enumerate(lines):
        pts = [(x, y, lo, hi) for x, y, lo, hi in zip(line["xs"], line["ys"], line.get("lo", [None] * len(line["xs"])),
                                                      line.get("hi", [None] * len(line["xs"])))
               if not doc.missing(y) and (not logy or y > 0)]
        if not pts:
            continue
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        ax.plot(xs, ys, marker=line.get("marker", MARKERS[i % len(MARKERS)]), ms=4, lw=1.3, ls=line.get("ls", "-"),
                color=line["colour"], label=line["label"], zorder=1 if line.get("ls") == "--" else 2)
        for x, y, lo, hi in pts if line.get("whiskers", True) else ():
            if not (doc.missing(lo) or doc.missing(hi)) and (not logy or lo > 0):
                ax.plot([x, x], [lo, hi], color=line["colour"], lw=1.2, alpha=0.6)
    if logx:
        ax.set_xscale("log", base=2)
    if logy:
        ax.set_yscale("log")


def heatmap(ax, rows, cols, values, texts, cmap="Oranges", norm=None, colour_label=""):
    """An annotated grid: values[(row, col)] colours a cell (missing: blank), texts[(row, col)] is
    written in it."""
    import numpy as np
    grid = np.full((len(rows), len(cols)), np.nan)
    for (r, c), v in values.items():
        if r in rows and c in cols and not doc.missing(v):
            grid[rows.index(r), cols.index(c)] = v
    cm = plt.get_cmap(cmap).copy()
    cm.set_bad("#f3f5f7")
    image = ax.imshow(np.ma.masked_invalid(grid), cmap=cm, norm=norm, aspect="auto")
    for (r, c), text in texts.items():
        if r in rows and c in cols:
            v = grid[rows.index(r), cols.index(c)]
            dark = not math.isnan(v) and sum(image.to_rgba(v)[:3]) < 1.5
            ax.text(cols.index(c), rows.index(r), text, ha="center", va="center", fontsize=7.5,
                    color="white" if dark else "#1b1f24")
    ax.set_xticks(range(len(cols)))
    ax.set_xticklabels(cols, rotation=30, ha="right")
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels(rows)
    ax.grid(False)
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    if colour_label:
        bar = ax.figure.colorbar(image, ax=ax, shrink=0.8, pad=0.01, aspect=30)
        bar.set_label(colour_label)
        if isinstance(norm, mcolors.LogNorm):
            bar.ax.yaxis.set_major_locator(ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
            bar.ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:.3g}×"))
            bar.ax.yaxis.set_minor_locator(ticker.NullLocator())
    return image


def log_norm(values):
    """A logarithmic colour scale spanning the positive values given (None when there are none)."""
    pos = [v for v in values if not doc.missing(v) and v > 0]
    if not pos:
        return None
    lo, hi = min(pos), max(pos)
    return mcolors.LogNorm(vmin=lo, vmax=hi if hi > lo else lo * 1.0001)


def save(fig, folder=None, name=None, png=False):
    """The figure as SVG text; also written to folder/name.svg (and name.png) when folder is given."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    svg = buf.getvalue()
    if folder:
        with open(os.path.join(folder, name + ".svg"), "w", encoding="utf-8") as f:
            f.write(svg)
        if png:
            fig.savefig(os.path.join(folder, name + ".png"), dpi=150, metadata={"Software": None})
    plt.close(fig)
    return svg
