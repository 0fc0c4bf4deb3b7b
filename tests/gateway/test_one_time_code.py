"""One-time codes: the right code is evidence; wrong, late or exhausted codes are not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gateway.messages import Evidence
from gateway.one_time_code import MAX_ATTEMPTS, check, issue

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def test_the_right_code_proves_the_phone() -> None:
    code, challenge = issue("phone", "+15550000001", T0)
    assert code not in str(challenge.to_dict())
    evidence, left = check(challenge.to_dict(), f" {code[:3]} {code[3:]} ", T0)
    assert evidence == Evidence("phone", "+15550000001", "one_time_code")
    assert left is None


def test_a_wrong_code_costs_an_attempt_and_proves_nothing() -> None:
    code, challenge = issue("email", "ann@example.com", T0)
    wrong = "000000" if code != "000000" else "111111"
    evidence, left = check(challenge.to_dict(), wrong, T0)
    assert evidence is None
    assert left is not None
    assert left.attempts_left == MAX_ATTEMPTS - 1


def test_codes_expire_and_attempts_run_out() -> None:
    code, challenge = issue("phone", "+15550000001", T0)
    assert check(challenge.to_dict(), code, T0 + timedelta(minutes=11)) == (None, None)
    wrong = "000000" if code != "000000" else "111111"
    state = challenge.to_dict()
    for _ in range(MAX_ATTEMPTS - 1):
        _, remaining = check(state, wrong, T0)
        assert remaining is not None
        state = remaining.to_dict()
    assert check(state, wrong, T0) == (None, None)
