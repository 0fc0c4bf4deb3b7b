"""Render an article's Markdown answer for each channel, via markdown-it-py's token stream."""

from __future__ import annotations

import html
from collections.abc import Callable

from markdown_it import MarkdownIt
from markdown_it.token import Token

from knowledge.content import Article

CHANNELS = ("webchat", "sms", "whatsapp", "telegram", "messenger", "instagram")
_MD = MarkdownIt("commonmark").enable("table").enable("strikethrough")
# SMS is billed per GSM-7 segment; typographic punctuation would force UCS-2 (70 chars/segment).
_ASCII = str.maketrans({"–": "-", "—": "-", "‘": "'", "’": "'", "“": '"', "”": '"',
                        "…": "...", "•": "-", "\u00a0": " ", "×": "x"})


def render_article(article: Article, channel: str) -> str:
    """The article's answer as the given channel should show it."""
    if channel == "webchat":
        return article.body
    if channel in ("sms", "whatsapp"):
        if article.sms:
            return article.sms
        text = markdown_to_text(article.body, bullet="- " if channel == "sms" else "• ")
        return text.translate(_ASCII) if channel == "sms" else text
    if channel == "telegram":
        return markdown_to_telegram_html(article.body)
    if channel in ("messenger", "instagram"):
        return markdown_to_text(article.body)
    raise ValueError(f"unknown channel {channel!r}; expected one of {', '.join(CHANNELS)}")


def markdown_to_text(markdown: str, bullet: str = "• ") -> str:
    """Plain text: formatting dropped, links kept as 'text (url)' or the bare url."""
    return _render_blocks(_MD.parse(markdown), _plain_inline, bullet, lambda s: s)


def markdown_to_telegram_html(markdown: str) -> str:
    """Telegram's HTML subset: <b>, <i>, <s>, <code>, <pre>, <a href>; lists as '• ' lines."""
    return _render_blocks(_MD.parse(markdown), _telegram_inline, "• ",
                          lambda s: f"<pre>{html.escape(s, quote=False)}</pre>")


def _plain_inline(children: list[Token]) -> str:
    """Inline tokens as plain text."""
    out: list[str] = []
    href_stack: list[tuple[str, int]] = []
    for tok in children:
        if tok.type in ("text", "code_inline", "html_inline"):
            out.append(tok.content)
        elif tok.type in ("softbreak", "hardbreak"):
            out.append("\n" if tok.type == "hardbreak" else " ")
        elif tok.type == "link_open":
            href_stack.append((str(tok.attrs.get("href", "")), len(out)))
        elif tok.type == "link_close" and href_stack:
            href, start = href_stack.pop()
            label = "".join(out[start:])
            if label.strip() in (href, href.removeprefix("mailto:")):
                out[start:] = [href.removeprefix("mailto:")]
            else:
                out.append(f" ({href.removeprefix('mailto:')})")
        elif tok.type == "image":
            out.append(tok.content or str(tok.attrs.get("src", "")))
    return "".join(out)


_TELEGRAM_TAGS = {"strong": "b", "em": "i", "s": "s"}


def _telegram_inline(children: list[Token]) -> str:
    """Inline tokens as Telegram HTML, every text piece escaped."""
    out: list[str] = []
    for tok in children:
        kind, _, edge = tok.type.rpartition("_")
        if tok.type in ("text", "html_inline"):
            out.append(html.escape(tok.content, quote=False))
        elif tok.type == "code_inline":
            out.append(f"<code>{html.escape(tok.content, quote=False)}</code>")
        elif tok.type in ("softbreak", "hardbreak"):
            out.append("\n" if tok.type == "hardbreak" else " ")
        elif tok.type == "link_open":
            out.append(f'<a href="{html.escape(str(tok.attrs.get("href", "")), quote=True)}">')
        elif tok.type == "link_close":
            out.append("</a>")
        elif kind in _TELEGRAM_TAGS and edge in ("open", "close"):
            out.append(f"<{'/' if edge == 'close' else ''}{_TELEGRAM_TAGS[kind]}>")
        elif tok.type == "image":
            out.append(html.escape(tok.content, quote=False))
    return "".join(out)


def _render_blocks(
    tokens: list[Token],
    inline: Callable[[list[Token]], str],
    bullet: str,
    code: Callable[[str], str],
) -> str:
    """Block structure shared by the text renderers: paragraphs, lists, tables, code."""
    blocks: list[str] = []  # finished paragraphs, separated by blank lines
    lines: list[str] = []  # lines of the current list or table
    prefixes: list[str] = []  # marker for the next list item at each nesting level
    numbers: list[int] = []
    row: list[str] = []
    in_head = False
    in_cell = False

    def flush_lines() -> None:
        if lines:
            blocks.append("\n".join(lines))
            lines.clear()

    for tok in tokens:
        t = tok.type
        if t in ("bullet_list_open", "ordered_list_open"):
            prefixes.append(t)
            numbers.append(int(tok.attrs.get("start", 1) or 1))
        elif t in ("bullet_list_close", "ordered_list_close"):
            prefixes.pop()
            numbers.pop()
            if not prefixes:
                flush_lines()
        elif t == "thead_open":
            in_head = True
        elif t == "thead_close":
            in_head = False
        elif t in ("th_open", "td_open"):
            in_cell = True
        elif t in ("th_close", "td_close"):
            in_cell = False
        elif t == "tr_open":
            row = []
        elif t == "tr_close":
            # Header rows are dropped: "Standard: 3-6 business days" reads fine without them.
            if not in_head and row:
                lines.append(f"{row[0]}: {' | '.join(row[1:])}" if len(row) > 1 else row[0])
        elif t == "table_close":
            flush_lines()
        elif t == "inline":
            text = inline(tok.children or [])
            if in_cell:
                row.append(text.strip())
            elif prefixes:
                depth = len(prefixes) - 1
                if prefixes[-1] == "ordered_list_open":
                    marker = f"{numbers[-1]}. "
                    numbers[-1] += 1
                else:
                    marker = bullet
                lines.append("  " * depth + marker + text)
            else:
                flush_lines()
                blocks.append(text)
        elif t in ("fence", "code_block"):
            flush_lines()
            blocks.append(code(tok.content.rstrip("\n")))
    flush_lines()
    return "\n\n".join(b for b in blocks if b.strip())

