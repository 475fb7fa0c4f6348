"""doc.py — a report as a list of blocks, written out as Markdown or as one self-contained HTML page
(inline CSS, charts as inline SVG, no scripts, nothing fetched), and the number formats both use.

Text in blocks may use two bits of Markdown: `code` and **bold**; everything else is escaped.
"""
import html
import math
import re

# ---- numbers ----------------------------------------------------------------------------------


def missing(x):
    return x is None or (isinstance(x, float) and (math.isnan(x) or math.isinf(x)))


def num(x, sig=3):
    """x to `sig` significant digits, never in exponent form: 0.00123, 0.288, 1.22, 12.2, 122;
    from 1000 on, whole numbers with thousands separators (18,570). '–' for none or nan."""
    if missing(x):
        return "–"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if x == 0:
        return "0"
    def digits(v):
        return max(0, sig - 1 - int(math.floor(math.log10(abs(v)))))
    text = f"{x:.{digits(x)}f}"
    if float(text) and digits(float(text)) != digits(x):  # 9.9996 rounds up to 10.00: one decimal fewer
        text = f"{float(text):.{digits(float(text))}f}"
    return f"{float(text):,.0f}" if abs(float(text)) >= 1000 else text


def interval(lo, hi, fmt=num):
    """A confidence interval as '[lo, hi]', or '–' when there is none."""
    if missing(lo) or missing(hi):
        return "–"
    return f"[{fmt(lo)}, {fmt(hi)}]"


TIME_UNITS = ((1e9, "s"), (1e6, "ms"), (1e3, "µs"), (1.0, "ns"))


def duration(ns):
    """A time given in ns, in the unit that suits it: '1.22 ns', '18.6 µs', '0.65 ms'."""
    if missing(ns):
        return "–"
    for scale, unit in TIME_UNITS:
        if abs(ns) >= scale:
            return f"{num(ns / scale)} {unit}"
    return f"{num(ns)} ns"


def percent(fraction, signed=False):
    """A fraction as a percentage: 0.0734 -> '7.3 %' ('+7.3 %' when signed); small ones keep two
    decimals (0.29 %)."""
    if missing(fraction):
        return "–"
    p = 100.0 * fraction
    text = f"{p:+.1f}" if signed else f"{p:.1f}"
    if abs(p) < 1:
        text = f"{p:+.2f}" if signed else f"{p:.2f}"
    return text + " %"


def bytes_(n):
    """8 -> '8 B', 4096 -> '4 KiB', 1048576 -> '1 MiB'."""
    for scale, unit in ((1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")):
        if n >= scale and n % scale == 0:
            return f"{n // scale} {unit}"
    return f"{n} B"


# ---- the document -----------------------------------------------------------------------------


class Doc:
    """Blocks in order: headings, paragraphs, lists, tables, figures, callouts, a table of contents
    and collapsible parts (begin_details ... end_details: <details> in HTML, which opens without
    JavaScript; in Markdown the same tags, which GitHub renders too)."""

    def __init__(self, title, subtitle=""):
        self.title = title
        self.subtitle = subtitle
        self.blocks = []

    def heading(self, text, level=2):
        self.blocks.append(("heading", level, text))

    def para(self, text, cls=""):
        """A paragraph; cls: a CSS class in HTML (e.g. 'verdict')."""
        self.blocks.append(("para", text, cls))

    def bullets(self, items):
        if items:
            self.blocks.append(("bullets", list(items)))

    def table(self, header, rows, align=None, ci="inline"):
        """align: one letter per column, 'l' or 'r' (default: first column left, the rest right). A
        cell ending in a bracketed interval ('1.22 [1.20, 1.25]') shows the interval smaller in HTML:
        beside the figure (ci="inline") or, for tables with many columns, under it (ci="below")."""
        align = align or "l" + "r" * (len(header) - 1)
        self.blocks.append(("table", list(header), [list(r) for r in rows], align, ci))

    def figure(self, svg, file, caption):
        """svg: the chart's SVG text (inlined in HTML); file: its name beside the report (Markdown
        links to it)."""
        self.blocks.append(("figure", svg, file, caption))

    def callout(self, kind, what, todo="", title=""):
        """kind: 'warning' or 'note'; what happened and what to do about it. With a title, the HTML
        shows the title and keeps the rest folded."""
        self.blocks.append(("callout", kind, what, todo, title))

    def toc(self):
        """A table of contents of the level-2 headings, wherever this is called."""
        self.blocks.append(("toc",))

    def begin_details(self, summary, open_=False):
        self.blocks.append(("details", summary, open_))

    def end_details(self):
        self.blocks.append(("end_details",))

    def anchors(self):
        """{block index: id} for every heading; ids unique, as GitHub makes them."""
        seen, out = {}, {}
        for n, block in enumerate(self.blocks):
            if block[0] == "heading":
                base = slug(block[2])
                k = seen.get(base, 0)
                seen[base] = k + 1
                out[n] = base if k == 0 else f"{base}-{k}"
        return out

    def contents(self):
        """[(id, text)] of the level-2 headings."""
        ids = self.anchors()
        return [(ids[n], b[2]) for n, b in enumerate(self.blocks) if b[0] == "heading" and b[1] == 2]

    # -- Markdown --

    def markdown(self):
        out = [f"# {self.title}", ""] + ([self.subtitle, ""] if self.subtitle else [])
        for block in self.blocks:
            kind = block[0]
            if kind == "heading":
                out += ["#" * block[1] + " " + block[2], ""]
            elif kind == "para":
                out += [block[1], ""]
            elif kind == "bullets":
                out += [f"- {item}" for item in block[1]] + [""]
            elif kind == "table":
                _, header, rows, align, _ = block
                out.append(md_row(header))
                out.append("|" + "|".join("---:" if a == "r" else "---" for a in align) + "|")
                out += [md_row(r) for r in rows]
                out.append("")
            elif kind == "figure":
                _, _, file, caption = block
                out += [f"![{caption}]({file})", "", f"*{caption}*", ""]
            elif kind == "callout":
                _, level, what, todo, _title = block
                text = f"> **{level}:** {what}"
                if todo:
                    text += f" *What to do:* {todo}"
                out += [text, ""]
            elif kind == "toc":
                out += ["**Contents:** " + " · ".join(f"[{text}](#{anchor})" for anchor, text in self.contents()), ""]
            elif kind == "details":
                out += [f"<details{' open' if block[2] else ''}><summary>{inline(block[1])}</summary>", ""]
            elif kind == "end_details":
                out += ["</details>", ""]
        return "\n".join(out).rstrip() + "\n"

    # -- HTML --

    def html(self):
        body = []
        ids = self.anchors()
        for n, block in enumerate(self.blocks):
            kind = block[0]
            if kind == "heading":
                level, text = block[1], block[2]
                body.append(f'<h{level} id="{ids[n]}">{inline(text)}</h{level}>')
            elif kind == "para":
                cls = f' class="{block[2]}"' if block[2] else ""
                body.append(f"<p{cls}>{inline(block[1])}</p>")
            elif kind == "bullets":
                body.append("<ul>" + "".join(f"<li>{inline(i)}</li>" for i in block[1]) + "</ul>")
            elif kind == "table":
                _, header, rows, align, ci = block
                cls = [' class="num"' if a == "r" else "" for a in align]
                head = "".join(f"<th{cls[i]}>{inline(h)}</th>" for i, h in enumerate(header))
                rows_html = "".join(
                    "<tr>" + "".join(f"<td{cls[i]}>{cell_html(c)}</td>" for i, c in enumerate(r)) + "</tr>"
                    for r in rows)
                body.append(f'<table class="ci-{ci}"><thead><tr>{head}</tr></thead><tbody>{rows_html}</tbody></table>')
            elif kind == "figure":
                _, svg, _, caption = block
                body.append(f"<figure>{inline_svg(svg, f'f{n}-')}"
                            f"<figcaption>{inline(caption)}</figcaption></figure>")
            elif kind == "callout":
                _, level, what, todo, title = block
                todo_html = f'<span class="todo">What to do: {inline(todo)}</span>' if todo else ""
                if title:
                    body.append(f'<details class="callout {level}"><summary><strong>{level}:</strong> '
                                f"{inline(title)}</summary><p>{inline(what)}</p>{todo_html}</details>")
                else:
                    body.append(f'<div class="callout {level}"><strong>{level}:</strong> '
                                f"{inline(what)} {todo_html}</div>")
            elif kind == "toc":
                items = "".join(f'<li><a href="#{a}">{inline(t)}</a></li>' for a, t in self.contents())
                body.append(f'<nav class="toc"><strong>Contents</strong><ol>{items}</ol></nav>')
            elif kind == "details":
                body.append(f"<details class=\"part\"{' open' if block[2] else ''}><summary>{inline(block[1])}</summary>")
            elif kind == "end_details":
                body.append("</details>")
        subtitle = f'<p class="subtitle">{inline(self.subtitle)}</p>\n' if self.subtitle else ""
        return (
            "<!DOCTYPE html>\n"
            '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{html.escape(self.title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
            f"<main>\n<h1>{inline(self.title)}</h1>\n{subtitle}" + "\n".join(body) + "\n</main>\n</body>\n</html>\n"
        )


# The page is at most 1280 px wide, so at 1400 px nothing scrolls sideways; charts keep their own
# size (their text stays the size it was drawn at) and shrink only on narrower screens.
CSS = """
body { margin: 0; background: #fff; color: #1b1f24;
       font: 15px/1.5 -apple-system, "Segoe UI", "DejaVu Sans", Helvetica, Arial, sans-serif; }
main { max-width: 1224px; margin: 0 auto; padding: 20px 28px 64px; }
h1 { font-size: 26px; margin: 0 0 4px; }
.subtitle { color: #57606a; margin: 0 0 12px; }
h2 { font-size: 20px; margin: 32px 0 8px; padding-top: 8px; border-top: 1px solid #d8dee4; }
h3 { font-size: 16px; margin: 20px 0 6px; }
p, ul { margin: 6px 0 12px; }
code { font: 13px "DejaVu Sans Mono", Menlo, Consolas, monospace; background: #f3f5f7;
       padding: 1px 4px; border-radius: 3px; overflow-wrap: break-word; }
table { border-collapse: collapse; font-size: 13px; margin: 8px 0 16px; max-width: 100%; }
th, td { padding: 3px 8px; border-bottom: 1px solid #e3e7eb; text-align: left; vertical-align: top; }
th { background: #f6f8fa; border-bottom: 2px solid #d0d7de; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td .ci { font-size: 11px; color: #57606a; }
table.ci-inline td .ci::before { content: " "; }
table.ci-below td .ci { display: block; }
tbody tr:hover { background: #f8fafc; }
figure { margin: 16px 0 24px; }
figure svg { display: block; max-width: 100%; height: auto; }
figcaption { font-size: 13px; color: #57606a; margin-top: 4px; max-width: 960px; }
.callout { border-left: 4px solid; padding: 6px 12px; margin: 6px 0; border-radius: 0 4px 4px 0; }
.callout.warning { border-color: #d4a72c; background: #fff8e5; }
.callout.note { border-color: #54aeff; background: #eef6ff; }
.callout p { margin: 4px 0; }
.callout .todo { display: block; margin-top: 2px; color: #3d444d; }
details > summary { cursor: pointer; }
details.part { margin: 8px 0 16px; }
details.part > summary { font-weight: 600; color: #0969da; }
nav.toc { background: #f6f8fa; border: 1px solid #d8dee4; border-radius: 6px; padding: 8px 14px; margin: 8px 0 16px; }
nav.toc ol { margin: 4px 0 0; padding-left: 20px; columns: 3; column-gap: 32px; font-size: 14px; }
nav.toc a { color: #0969da; text-decoration: none; }
.verdict { font-size: 16px; border-left: 4px solid #0969da; padding: 4px 12px; background: #f6f8fa; }
"""


def md_row(cells):
    return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"


def inline(text):
    """Escapes text for HTML, then turns `code` and **bold** into tags."""
    out = html.escape(str(text), quote=False)
    # a long name (c/dotnet-nativeaot-static/dllimport/get/mode:throughput) may break after a slash
    out = re.sub(r"`([^`]+)`", lambda m: "<code>" + m.group(1).replace("/", "/<wbr>") + "</code>", out)
    return re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", out)


def cell_html(cell):
    """A table cell: inline markup, and a trailing interval ('12.3 [12.1, 12.5]') on its own line."""
    text = str(cell)
    m = re.fullmatch(r"(.*\S) (\[[^\]]*\])", text)
    if m:
        return f'{inline(m.group(1))}<span class="ci">{inline(m.group(2))}</span>'
    return inline(text)


def slug(text):
    """A heading's anchor as GitHub makes it: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*]", "", text.lower())
    return re.sub(r"[^\w\- ]", "", text).strip().replace(" ", "-")


def inline_svg(svg, prefix):
    """An SVG file's text made fit to sit inside HTML: no XML prolog, and every id (with the
    references to it) prefixed, so the ids of several charts on one page cannot collide."""
    svg = svg[svg.index("<svg"):]
    ids = set(re.findall(r'\bid="([^"]+)"', svg))
    if ids:
        pattern = re.compile(r'(\bid="|#)(' + "|".join(map(re.escape, sorted(ids, key=len, reverse=True)))
                             + r')(?=["\)])')
        svg = pattern.sub(lambda m: m.group(1) + prefix + m.group(2), svg)
    return svg
