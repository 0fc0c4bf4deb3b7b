"""The bot's self-service turns without the gateway around them: the loop's own rules."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from dialogs.action_client import HttpActions, InProcessActions
from dialogs.actions import ACTIONS, build_actions
from dialogs.actions.forms import ValidateCancelOrderForm
from dialogs.bot import Bot, Turn
from dialogs.commerce.demo import DemoCommerce
from dialogs.flows import FLOWS
from dialogs.form_runner import FormRunner
from gateway.stores.protocol import Customer, Identity
from tests.support import REPO_ROOT, demo_answerer

ANA = Customer("cus_ana", "Ana", datetime.now(UTC), (Identity("phone", "+14155550123", "twilio"),))


@pytest.fixture
def bot() -> Bot:
    backend = DemoCommerce()
    return Bot(demo_answerer(), FormRunner(InProcessActions(build_actions(backend)), backend))


async def say(bot: Bot, text: str, state: dict, postback: str | None = None) -> Turn:
    return await bot.respond(text, postback, "webchat", state, customer=ANA)


async def test_accepting_a_person_hands_off_with_the_reason(bot: Bot) -> None:
    bot.flows.commerce.down = True
    down = await say(bot, "where is FH-482913", {})
    assert "flow" not in down.state
    assert down.state["offered"][0]["payload"] == "flow:handoff:backend_error"
    handed = await say(bot, "", down.state, postback="flow:handoff:backend_error")
    assert (handed.decision, handed.handoff) == ("handoff", "backend_error")


async def test_asking_for_a_person_mid_form_leaves_the_form(bot: Bot) -> None:
    asked = await say(bot, "I want to cancel my order", {})
    assert asked.state["flow"]["requested"] == "order_number"
    person = await say(bot, "talk to a human", asked.state)
    assert "flow" not in person.state
    assert person.intent == "human_agent"


async def test_a_change_of_mind_switches_flow_and_keeps_the_order(bot: Bot) -> None:
    status = await say(bot, "where is FH-310577", {})
    assert "processing" in status.replies[0].text
    asked = await say(bot, "I want to change the delivery address", {})
    given = await say(bot, "FH-310577", asked.state)
    assert given.state["flow"]["requested"] == "new_address"
    switched = await say(bot, "actually just cancel my order", given.state)
    assert switched.state["flow"]["intent"] == "cancel_order"
    assert switched.state["flow"]["slots"] == {"order_number": "FH-310577"}
    assert switched.replies[0].text.startswith("Cancel order FH-310577?")


async def test_an_unreachable_action_server_apologises_and_offers_a_person() -> None:
    bot = Bot(demo_answerer(), FormRunner(HttpActions("http://127.0.0.1:9/webhook")))
    try:
        turn = await say(bot, "where is my order", {})
    finally:
        await bot.flows.close()
    assert "went wrong on my side" in turn.replies[0].text
    assert turn.replies[0].quick_replies[0].payload == "flow:handoff:flow_failed"
    assert "flow" not in turn.state


def test_every_flow_has_its_actions_and_a_diagram() -> None:
    names = {cls.name(object.__new__(cls)) for cls in ACTIONS}
    for flow in FLOWS.values():
        assert flow.submit in names
        if flow.form:
            assert f"validate_{flow.form}" in names
            validator = next(
                c for c in ACTIONS if c.name(object.__new__(c)) == f"validate_{flow.form}"
            )
            for slot in flow.slots:
                assert f"action_ask_{slot}" in names
                assert hasattr(validator, f"validate_{slot}"), (flow.intent, slot)
        doc = Path(REPO_ROOT, "docs", "flows", f"{flow.intent}.md")
        if flow.slots:
            text = doc.read_text()
            assert "```mermaid" in text
            assert all(slot in text for slot in flow.slots)


async def test_without_sms_no_code_is_promised_for_someone_elses_order() -> None:
    backend = DemoCommerce()
    runner = FormRunner(InProcessActions(build_actions(backend)), backend, can_text=False)
    bot = Bot(demo_answerer(), runner)
    turn = await say(bot, "where is FH-559120", {})
    assert "write to us from the phone number on the order" in turn.replies[0].text
    assert "Summit" not in turn.replies[0].text
    assert turn.replies[0].quick_replies[0].payload == "flow:handoff:ownership_unproven"
    assert turn.private == ()


class NoConfirmation(ValidateCancelOrderForm):
    """A team's own validator: cancels without asking yes/no (overrides required_slots)."""

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        return ["order_number"]


async def test_a_validator_choosing_its_own_slots_is_followed() -> None:
    backend = DemoCommerce()
    ours = [a for a in build_actions(backend) if a.name() != "validate_cancel_order_form"]
    runner = FormRunner(InProcessActions([*ours, NoConfirmation(backend)]), backend)
    bot = Bot(demo_answerer(), runner)
    turn = await say(bot, "cancel FH-310577", {})
    # With `confirmed` never requested the submit action reads it as "no": nothing cancelled.
    assert turn.replies[0].text == "OK, I haven't cancelled FH-310577."
    assert "flow" not in turn.state
