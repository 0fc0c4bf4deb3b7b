"""Admin API for the knowledge base: articles, versions with revert, and "try a question"."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from datetime import datetime
from typing import Any

from aiohttp import web

from gateway.http_ops import SERVICES
from gateway.kb_insights import effectiveness, group_questions, unanswered
from gateway.knowledge_loader import shared_embedder
from gateway.messages import CHANNELS
from gateway.services import Services
from gateway.timespec import parse_since
from knowledge.content import (
    Article,
    ContentError,
    ContentErrors,
    KnowledgeBase,
    format_article,
    parse_article,
)

MAX_QUERY_CHARS = 4000


def _json_error(status: int, payload: dict[str, Any]) -> web.HTTPException:
    cls = {
        400: web.HTTPBadRequest,
        404: web.HTTPNotFound,
        409: web.HTTPConflict,
        422: web.HTTPUnprocessableEntity,
    }[status]
    return cls(text=json.dumps(payload), content_type="application/json")


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except (ValueError, UnicodeDecodeError):
        raise _json_error(400, {"error": "body must be a JSON object"}) from None
    if not isinstance(data, dict):
        raise _json_error(400, {"error": "body must be a JSON object"})
    return data


def _editor(request: web.Request, data: dict[str, Any]) -> str:
    author = data.get("author") or request.headers.get("X-Onethread-Editor") or "admin"
    return str(author)[:100]


def article_from_json(article_id: str, data: dict[str, Any]) -> Article:
    """Validate an article given as JSON fields exactly as its file would be validated."""
    problems: list[ContentError] = []
    for key in ("questions", "tags"):
        if key in data and not isinstance(data[key], list):
            problems.append(ContentError(f"{article_id}.md", None, f"{key} must be a list"))
    if problems:
        raise ContentErrors(problems)
    draft = Article(
        id=article_id,
        title=str(data.get("title", "")),
        questions=tuple(str(q) for q in data.get("questions", [])),
        tags=tuple(str(t) for t in data.get("tags", [])),
        sms=None if data.get("sms") in (None, "") else str(data["sms"]),
        body=str(data.get("body", "")).strip(),
    )
    return parse_article(f"{article_id}.md", format_article(draft))


def article_json(article: Article) -> dict[str, Any]:
    """An article as the API shows it."""
    return dataclasses.asdict(article) | {
        "questions": list(article.questions),
        "tags": list(article.tags),
    }


def _errors(exc: ContentErrors) -> web.HTTPException:
    return _json_error(
        422,
        {
            "error": "invalid article",
            "errors": [{"path": e.path, "line": e.line, "reason": e.reason} for e in exc],
        },
    )


def _replace(kb: KnowledgeBase, article: Article | None, drop: str | None) -> KnowledgeBase:
    articles = [a for a in kb.articles if a.id != drop]
    if article is not None:
        articles.append(article)
    return dataclasses.replace(kb, articles=tuple(sorted(articles, key=lambda a: a.id)))


async def list_articles(request: web.Request) -> web.Response:
    """Articles, optionally filtered by a search text over id, title, questions and body."""
    kb = request.app[SERVICES].knowledge.current.kb
    query = request.query.get("q", "").strip().lower()

    def matches(article: Article) -> bool:
        haystack = " ".join((article.id, article.title, *article.questions, article.body))
        return query in haystack.lower()

    found = [article_json(a) for a in kb.articles if not query or matches(a)]
    return web.json_response(
        {"version": request.app[SERVICES].knowledge.version, "articles": found}
    )


def _article_or_404(services: Services, article_id: str) -> Article:
    article = services.knowledge.current.kb.article(article_id)
    if article is None:
        raise _json_error(404, {"error": f"no article {article_id!r}"})
    return article


async def get_article(request: web.Request) -> web.Response:
    """One article."""
    services = request.app[SERVICES]
    article = _article_or_404(services, request.match_info["article_id"])
    return web.json_response({"version": services.knowledge.version, **article_json(article)})


async def _save_article(
    request: web.Request, article_id: str, data: dict[str, Any], verb: str
) -> dict[str, Any]:
    services = request.app[SERVICES]
    try:
        article = article_from_json(article_id, data)
    except ContentErrors as exc:
        raise _errors(exc) from None
    kb = _replace(services.knowledge.current.kb, article, article_id)
    version = await services.knowledge.save(kb, _editor(request, data), f"{verb} {article_id}")
    return {"version": version, **article_json(article)}


async def create_article(request: web.Request) -> web.Response:
    """Add an article; its id must be new."""
    data = await _body(request)
    article_id = str(data.get("id", ""))
    if request.app[SERVICES].knowledge.current.kb.article(article_id) is not None:
        raise _json_error(409, {"error": f"article {article_id!r} exists; PUT to change it"})
    saved = await _save_article(request, article_id, data, "created")
    return web.json_response(saved, status=201)


async def update_article(request: web.Request) -> web.Response:
    """Replace an article's content."""
    article_id = request.match_info["article_id"]
    _article_or_404(request.app[SERVICES], article_id)
    data = await _body(request)
    return web.json_response(await _save_article(request, article_id, data, "updated"))


async def delete_article(request: web.Request) -> web.Response:
    """Retire an article."""
    services = request.app[SERVICES]
    article_id = request.match_info["article_id"]
    _article_or_404(services, article_id)
    kb = _replace(services.knowledge.current.kb, None, article_id)
    await services.knowledge.save(kb, _editor(request, {}), f"deleted {article_id}")
    return web.Response(status=204)


async def query(request: web.Request) -> web.Response:
    """What the bot would decide for a message on a channel."""
    data = await _body(request)
    text, channel = data.get("text"), data.get("channel", "webchat")
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_QUERY_CHARS:
        raise _json_error(400, {"error": f"text must be 1 to {MAX_QUERY_CHARS} characters"})
    if channel not in CHANNELS:
        raise _json_error(400, {"error": f"channel must be one of {list(CHANNELS)}"})
    answerer = request.app[SERVICES].knowledge.current.answerer
    decision = await asyncio.to_thread(answerer.query, text, channel)
    return web.json_response(decision.to_dict())


async def list_versions(request: web.Request) -> web.Response:
    """Version history, newest first: who changed what, when."""
    services = request.app[SERVICES]
    versions = await services.store.knowledge.versions(limit=200)
    return web.json_response({"current": services.knowledge.version, "versions": versions})


async def get_version(request: web.Request) -> web.Response:
    """The whole content of one version."""
    content = await request.app[SERVICES].store.knowledge.version(_number(request))
    if content is None:
        raise _json_error(404, {"error": "no such version"})
    return web.json_response(content)


async def revert(request: web.Request) -> web.Response:
    """Make an earlier version current again, as a new version (history is never rewritten)."""
    services = request.app[SERVICES]
    number = _number(request)
    content = await services.store.knowledge.version(number)
    if content is None:
        raise _json_error(404, {"error": "no such version"})
    data = await _body(request) if request.can_read_body else {}
    kb = KnowledgeBase.from_dict(content)
    version = await services.knowledge.save(kb, _editor(request, data), f"reverted to {number}")
    return web.json_response({"version": version, "reverted_to": number})


def _since(request: web.Request, default: str) -> datetime:
    try:
        return parse_since(request.query.get("since", default))
    except ValueError as exc:
        raise _json_error(400, {"error": f"since: {exc}"}) from None


async def unanswered_questions(request: web.Request) -> web.Response:
    """Customer messages the bot could not answer, grouped by what they ask for."""
    services = request.app[SERVICES]
    missed = unanswered(await services.store.questions.since(_since(request, "30d")))
    answerer = services.knowledge.current.answerer

    def grouped() -> list[dict[str, Any]]:
        groups = [g.to_dict() for g in group_questions(missed, shared_embedder())]
        for group in groups:
            top = answerer.query(group["representative"]).candidates
            group["closest_article"] = next(
                ({"article_id": c.article_id, "score": c.score} for c in top if c.article_id),
                None,
            )
        return groups

    return web.json_response({"groups": await asyncio.to_thread(grouped)})


async def article_effectiveness(request: web.Request) -> web.Response:
    """Per article: answered, asked again soon after, handed off later in the conversation."""
    questions = await request.app[SERVICES].store.questions.since(_since(request, "30d"))
    return web.json_response({"articles": effectiveness(questions)})


async def add_question(request: web.Request) -> web.Response:
    """Add a customer's wording to an article's questions, so it is recognised next time."""
    services = request.app[SERVICES]
    article = _article_or_404(services, request.match_info["article_id"])
    data = await _body(request)
    text = data.get("text")
    if not isinstance(text, str) or not text.strip() or len(text) > 500:
        raise _json_error(400, {"error": "text must be 1 to 500 characters"})
    if text.strip() in article.questions:
        return web.json_response({"version": services.knowledge.version, **article_json(article)})
    updated = dataclasses.replace(article, questions=(*article.questions, text.strip()))
    kb = _replace(services.knowledge.current.kb, updated, article.id)
    note = f"added a question to {article.id}"
    version = await services.knowledge.save(kb, _editor(request, data), note)
    return web.json_response({"version": version, **article_json(updated)})


def _number(request: web.Request) -> int:
    try:
        return int(request.match_info["number"])
    except ValueError:
        raise _json_error(400, {"error": "version must be a number"}) from None


def routes() -> list[web.RouteDef]:
    """The knowledge-base routes of the admin API."""
    return [
        web.get("/api/v1/kb/articles", list_articles),
        web.post("/api/v1/kb/articles", create_article),
        web.get("/api/v1/kb/articles/{article_id}", get_article),
        web.put("/api/v1/kb/articles/{article_id}", update_article),
        web.delete("/api/v1/kb/articles/{article_id}", delete_article),
        web.post("/api/v1/kb/articles/{article_id}/questions", add_question),
        web.post("/api/v1/kb/query", query),
        web.get("/api/v1/kb/unanswered", unanswered_questions),
        web.get("/api/v1/kb/effectiveness", article_effectiveness),
        web.get("/api/v1/kb/versions", list_versions),
        web.get("/api/v1/kb/versions/{number}", get_version),
        web.post("/api/v1/kb/versions/{number}/revert", revert),
    ]
