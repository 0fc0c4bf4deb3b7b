"""The admin pages: the content editors' page at /admin/kb, the operators' dashboard at
/admin/dashboard, and the dashboard's charting script.

The pages are public (they hold no data); everything they show comes from the admin API, which
they call with the token the user types in. Their inline scripts and styles are allowed by hash
in a strict Content-Security-Policy, so no other script can run on them (the dashboard also loads
the charting module from this gateway, and nothing from anywhere else).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
from importlib import resources

from aiohttp import web

PAGE = "admin_kb.html"
DASHBOARD = "admin_dashboard.html"
CHARTS = "charts.js"
_INLINE = re.compile(r"<(script|style)>(.*?)</\1>", re.DOTALL)


def _sha256(text: str) -> str:
    """A CSP source expression for an inline block with exactly this text."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def _static(name: str) -> str:
    return resources.files("gateway").joinpath("static", name).read_text(encoding="utf-8")


@functools.cache
def _page(name: str = PAGE, own_scripts: bool = False) -> tuple[str, str]:
    """A page's HTML and the Content-Security-Policy that allows its inline blocks (and, with
    `own_scripts`, scripts served by this gateway)."""
    html = _static(name)
    hashes: dict[str, list[str]] = {"script": [], "style": []}
    for kind, text in _INLINE.findall(html):
        hashes[kind].append(_sha256(text))
    scripts = " ".join(["'self'"] * own_scripts + hashes["script"]) or "'none'"
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


def _html(name: str, own_scripts: bool = False) -> web.Response:
    html, policy = _page(name, own_scripts)
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


async def kb_editor(request: web.Request) -> web.Response:
    """The knowledge-base editor page."""
    return _html(PAGE)


async def dashboard(request: web.Request) -> web.Response:
    """The operators' dashboard."""
    return _html(DASHBOARD, own_scripts=True)


async def charts(request: web.Request) -> web.Response:
    """The dashboard's charting module (SVG, no dependencies)."""
    return web.Response(
        text=_static(CHARTS),
        content_type="text/javascript",
        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
    )


def routes() -> list[web.RouteDef]:
    """The admin pages' routes."""
    return [
        web.get("/admin/kb", kb_editor),
        web.get("/admin/dashboard", dashboard),
        web.get("/admin/charts.js", charts),
    ]
