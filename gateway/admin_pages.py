"""The content editors' page: one self-contained HTML file served at /admin/kb.

The page is public (it holds no data); everything it shows comes from the admin API, which it
calls with the token the editor types in. Its inline script and style are allowed by hash in a
strict Content-Security-Policy, so no other script can run on the page.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
from importlib import resources

from aiohttp import web

PAGE = "admin_kb.html"
_INLINE = re.compile(r"<(script|style)>(.*?)</\1>", re.DOTALL)


def _sha256(text: str) -> str:
    """A CSP source expression for an inline block with exactly this text."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


@functools.cache
def _page() -> tuple[str, str]:
    """The page's HTML and the Content-Security-Policy that allows its inline blocks."""
    html = resources.files("gateway").joinpath("static", PAGE).read_text(encoding="utf-8")
    hashes: dict[str, list[str]] = {"script": [], "style": []}
    for kind, text in _INLINE.findall(html):
        hashes[kind].append(_sha256(text))
    scripts = " ".join(hashes["script"]) or "'none'"
    styles = " ".join(hashes["style"]) or "'none'"
    policy = "; ".join(
        [
            "default-src 'none'",
            f"script-src {scripts}",
            f"style-src {styles}",
            "connect-src 'self'",
            "img-src 'self' data:",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )
    return html, policy


async def kb_editor(request: web.Request) -> web.Response:
    """The knowledge-base editor page."""
    html, policy = _page()
    return web.Response(
        text=html,
        content_type="text/html",
        headers={
            "Content-Security-Policy": policy,
            "Cache-Control": "no-cache",
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
        },
    )


def routes() -> list[web.RouteDef]:
    """The admin pages' routes."""
    return [web.get("/admin/kb", kb_editor)]
