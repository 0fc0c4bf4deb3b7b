"""The operator figures: each one function over the conversations built from the event log.

Every figure is defined in one sentence in the README ("Operator figures"); the docstrings here
say the same. Rates are shares between 0 and 1 (None when nothing was there to count); times are
seconds, summarised as count, mean, median (p50), p90 and max with nearest-rank percentiles.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta

from gateway.analytics import events as kinds
from gateway.analytics.journeys import Journey
from gateway.kb_insights import QuestionGroup, group_questions
from gateway.stores.protocol import AnalyticsEvent, AskedQuestion
from knowledge.embedder import TextEncoder

RE_ASK_WINDOW = timedelta(minutes=10)
THANKS_INTENTS = frozenset({"thanks"})
SATISFIED = 4  # ratings 4 and 5 of 5 count as satisfied
# Upper bounds (seconds) of the time-to-claim distribution the dashboard draws.
WAIT_BUCKETS = (60, 300, 900, 3600, 4 * 3600)


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _durations(values: list[float]) -> dict[str, float | int | None]:
    ordered = sorted(values)

    def rank(p: float) -> float | None:
        return ordered[max(0, math.ceil(p * len(ordered)) - 1)] if ordered else None

    return {
        "count": len(ordered),
        "mean": round(sum(ordered) / len(ordered), 1) if ordered else None,
        "p50": rank(0.5),
        "p90": rank(0.9),
        "max": ordered[-1] if ordered else None,
    }


def deflection_rate(convs: list[Journey]) -> float | None:
    """Conversations the bot closed without a handoff (or a request for a person) and with no new
    contact from the same customer on any channel within the window, over all conversations."""
    return _share(sum(1 for j in convs if j.contained and not j.recontacted), len(convs))


def handoff_rate(convs: list[Journey]) -> float | None:
    """Conversations with at least one handoff to people, over all conversations."""
    return _share(sum(1 for j in convs if j.handed_off), len(convs))


def handoffs_by_reason(convs: list[Journey]) -> dict[str, int]:
    """Handoffs opened, counted by their reason."""
    reasons = Counter(
        str(e.data.get("reason") or "none") for j in convs for e in j.of(kinds.HANDOFF)
    )
    return dict(reasons.most_common())


def containment_rate(convs: list[Journey]) -> float | None:
    """Conversations that stayed with the bot (no handoff, no request for a person), over all."""
    return _share(sum(1 for j in convs if j.contained), len(convs))


def recontact_rate(convs: list[Journey]) -> float | None:
    """Conversations after which the customer came back, on any channel, within the window."""
    return _share(sum(1 for j in convs if j.recontacted), len(convs))


def provisional(convs: list[Journey], window: timedelta, now: datetime) -> int:
    """Conversations that ended less than a window ago: counted as deflected (if the bot kept
    them) until the customer comes back, so recent deflection may still fall."""
    return sum(1 for j in convs if j.ended_at + window > now)


def _after_handoff(convs: list[Journey], kind: str) -> list[float]:
    """Seconds from each handoff to the first event of `kind` for the same handoff."""
    waits = []
    for journey in convs:
        for handoff in journey.of(kinds.HANDOFF):
            hid = handoff.data.get("handoff_id")
            later = [e for e in journey.of(kind) if e.data.get("handoff_id") == hid]
            if later:
                waits.append(max(0.0, (later[0].at - handoff.at).total_seconds()))
    return waits


def time_to_claim(convs: list[Journey]) -> dict:
    """Seconds from a handoff to an agent claiming it."""
    return _durations(_after_handoff(convs, kinds.CLAIM))


def time_to_claim_distribution(convs: list[Journey]) -> list[dict]:
    """How many claims came within each wait bucket (the last bucket is open-ended)."""
    waits = _after_handoff(convs, kinds.CLAIM)
    bounds: list[float | None] = [*WAIT_BUCKETS, None]
    counts = [0] * len(bounds)
    for wait in waits:
        counts[next(i for i, b in enumerate(bounds) if b is None or wait <= b)] += 1
    return [{"le": b, "count": c} for b, c in zip(bounds, counts, strict=True)]


def first_response_time(convs: list[Journey]) -> dict:
    """Seconds from a handoff to the agent's first reply reaching the customer."""
    return _durations(_after_handoff(convs, kinds.AGENT_REPLY))


def resolution_time(convs: list[Journey]) -> dict:
    """Seconds from a handoff to its resolution."""
    return _durations(_after_handoff(convs, kinds.RESOLVE))


def _ratings(convs: list[Journey]) -> list[int]:
    return [int(e.data["rating"]) for j in convs for e in j.of(kinds.RATING)]


def csat(convs: list[Journey]) -> float | None:
    """Ratings of 4 or 5 (of 5), over all ratings given."""
    ratings = _ratings(convs)
    return _share(sum(1 for r in ratings if r >= SATISFIED), len(ratings))


def csat_average(convs: list[Journey]) -> float | None:
    """The mean rating, 1 to 5."""
    ratings = _ratings(convs)
    return round(sum(ratings) / len(ratings), 2) if ratings else None


def channel_mix(convs: list[Journey]) -> dict[str, float]:
    """Each channel's share of all customer messages."""
    used = Counter(e.channel or "none" for j in convs for e in j.of(kinds.MESSAGE_IN))
    total = sum(used.values())
    return {channel: round(n / total, 4) for channel, n in used.most_common()}


def channel_switching_rate(convs: list[Journey]) -> float | None:
    """Conversations in which the customer wrote on more than one channel, over all."""
    return _share(sum(1 for j in convs if len(j.channels) > 1), len(convs))


def first_contact_resolution(convs: list[Journey]) -> float | None:
    """Conversations resolved (by the bot or by an agent) without the customer coming back within
    the window, however many messages and channels they took, over all conversations."""
    solved = sum(1 for j in convs if j.resolved_at is not None and not j.recontacted)
    return _share(solved, len(convs))


def journey_time(convs: list[Journey]) -> dict:
    """Seconds from a resolved conversation's first touch to its resolution."""
    return _durations(
        [(j.resolved_at - j.started_at).total_seconds() for j in convs if j.resolved_at]
    )


def _outcome(answer: AnalyticsEvent, later: list[AnalyticsEvent]) -> set[str]:
    """What followed one answer in its conversation: re-asked, handed off, thanked."""
    outcomes = set()
    turns = [e for e in later if e.kind == kinds.MESSAGE_OUT]
    if turns and turns[0].at - answer.at <= RE_ASK_WINDOW:
        nxt = turns[0].data
        missed = nxt.get("decision") in kinds.UNANSWERED
        same = (
            nxt.get("decision") == "answer" and nxt.get("article_id") == answer.data["article_id"]
        )
        if missed or same:
            outcomes.add("re_asked")
    if turns and turns[0].data.get("intent") in THANKS_INTENTS:
        outcomes.add("thanked")
    if any(e.kind == kinds.HANDOFF for e in later):
        outcomes.add("handed_off")
    return outcomes


def answers_by_article(convs: list[Journey]) -> list[dict]:
    """Per article: how often it answered, and how often the customer then asked again (within
    10 minutes), was handed off later in the conversation, or said thanks next."""
    stats: dict[str, Counter] = defaultdict(Counter)
    for journey in convs:
        for index, event in enumerate(journey.events):
            if event.kind != kinds.MESSAGE_OUT or event.data.get("decision") != "answer":
                continue
            if not event.data.get("article_id"):
                continue
            counts = stats[event.data["article_id"]]
            counts["answered"] += 1
            counts.update(_outcome(event, journey.events[index + 1 :]))
    return [
        {
            "article_id": article,
            **{k: c[k] for k in ("answered", "re_asked", "handed_off", "thanked")},
        }
        for article, c in sorted(stats.items(), key=lambda kv: (-kv[1]["answered"], kv[0]))
    ]


def unanswered_questions(convs: list[Journey], encoder: TextEncoder) -> list[QuestionGroup]:
    """Customer messages the bot could not answer (below the answer threshold: it asked to clarify
    or fell back), grouped by similarity of meaning, biggest group first."""
    asked = [
        AskedQuestion(j.id, e.channel or "", e.data["question"], e.data["decision"], e.at)
        for j in convs
        for e in j.of(kinds.MESSAGE_OUT)
        if e.data.get("question")
    ]
    return group_questions(asked, encoder)


# The figures shown for every slice (channel, intent, queue, time bucket).
CORE: dict[str, Callable[[list[Journey]], object]] = {
    "deflection_rate": deflection_rate,
    "handoff_rate": handoff_rate,
    "containment_rate": containment_rate,
    "recontact_rate": recontact_rate,
    "handoffs_by_reason": handoffs_by_reason,
    "time_to_claim": time_to_claim,
    "first_response_time": first_response_time,
    "resolution_time": resolution_time,
    "csat": csat,
    "csat_average": csat_average,
    "channel_mix": channel_mix,
    "channel_switching_rate": channel_switching_rate,
    "first_contact_resolution": first_contact_resolution,
    "journey_time": journey_time,
}


def core_figures(convs: list[Journey]) -> dict:
    """Every per-slice figure for a set of conversations."""
    return {
        "conversations": len(convs),
        "deflected": sum(1 for j in convs if j.contained and not j.recontacted),
        "handoffs": sum(len(j.of(kinds.HANDOFF)) for j in convs),
        "ratings": len(_ratings(convs)),
        **{name: figure(convs) for name, figure in CORE.items()},
    }


def sliced(convs: list[Journey], key: Callable[[Journey], str]) -> dict[str, dict]:
    """The core figures for each value of a slicing key (channel, intent, queue)."""
    groups: dict[str, list[Journey]] = defaultdict(list)
    for journey in convs:
        groups[key(journey)].append(journey)
    return {name: core_figures(group) for name, group in sorted(groups.items())}


def bucket_start(at: datetime, size: timedelta) -> datetime:
    """The start of the time bucket holding `at` (buckets aligned on the epoch, UTC)."""
    step = size.total_seconds()
    return datetime.fromtimestamp(at.timestamp() // step * step, at.tzinfo)


def by_bucket(
    convs: list[Journey], since: datetime, until: datetime, size: timedelta
) -> list[dict]:
    """The core figures per time bucket of conversation starts, empty buckets included."""
    groups: dict[datetime, list[Journey]] = defaultdict(list)
    for journey in convs:
        groups[bucket_start(journey.started_at, size)].append(journey)
    out, start = [], bucket_start(since, size)
    while start < until:
        out.append({"start": start.isoformat(), **core_figures(groups.get(start, []))})
        start += size
    return out
