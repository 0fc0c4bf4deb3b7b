"""Outbound pacing: per recipient and in all, computed on an injected clock."""

from __future__ import annotations

import pytest

from adapters.pacing import Pacer


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_one_recipient_is_spaced_by_the_per_recipient_gap() -> None:
    clock = Clock()
    pacer = Pacer(per_recipient=1.0, per_second=30.0, clock=clock)
    assert pacer.reserve("chat-1") == 0.0
    assert pacer.reserve("chat-1") == 1.0
    assert pacer.reserve("chat-1") == 2.0
    clock.now += 5
    assert pacer.reserve("chat-1") == 0.0


def test_different_recipients_share_only_the_overall_rate() -> None:
    clock = Clock()
    pacer = Pacer(per_recipient=6.0, per_second=10.0, clock=clock)
    waits = [pacer.reserve(f"user-{n}") for n in range(3)]
    assert waits == pytest.approx([0.0, 0.1, 0.2])


def test_a_burst_goes_at_once_then_the_average_rate_holds() -> None:
    clock = Clock()
    pacer = Pacer(per_recipient=1.0, per_second=1000.0, clock=clock, burst=3)
    waits = [pacer.reserve("C1") for _ in range(5)]
    assert waits == pytest.approx([0.0, 0.001, 0.002, 1.0, 2.0])
    clock.now += 10  # a quiet spell earns the burst back, no more
    assert [pacer.reserve("C1") for _ in range(4)] == pytest.approx([0.0, 0.001, 0.002, 1.0])
