"""Each self-service flow, several turns through the real gateway on web chat and SMS.

Every test runs twice: with the actions in-process (rasa-sdk's executor) and on rasa-sdk's own
action server started on loopback (ONETHREAD_ACTION_ENDPOINT).
"""

from __future__ import annotations

import re

from dialogs.commerce.demo import DemoCommerce
from dialogs.replies import HANDOFF_UNAVAILABLE
from tests.dialogs.harness import ANA, Thread, sms_to, texts
from tests.fakes.providers import FakeProviders


async def test_order_number_asked_on_web_chat_is_answered_by_sms(ana: Thread, fake) -> None:
    asked = await ana.web("where is my order")
    assert "Which order" in asked[0].text
    assert "slot:FH-482913" in asked[0].payloads  # her own orders, as quick replies
    status = await ana.sms("it's FH-482913")
    assert status[0].channel == "sms"
    assert "FH-482913" in status[0].text
    assert "shipped" in status[0].text
    assert "https://fernhill.example/track/FH-482913" in status[0].text
    await fake.wait_for(lambda r: r.provider == "twilio" and r.method == "POST")
    assert "shipped" in sms_to(fake, ANA)[-1]


async def test_a_wrong_order_number_then_the_right_one(ana: Thread) -> None:
    await ana.sms("wheres my order")
    wrong = await ana.sms("12345")
    assert "FH and six digits" in wrong[0].text
    unknown = await ana.sms("FH-999999")
    assert "can't find an order FH-999999" in unknown[0].text
    right = await ana.sms("fh 482913")
    assert "Order FH-482913" in right[0].text
    assert "shipped" in right[0].text


async def test_someone_elses_order_is_refused_without_its_details(ana: Thread) -> None:
    refused = await ana.web("where is FH-559120")  # Jordan's order
    assert "isn't linked to a phone number or email you've confirmed" in refused[0].text
    assert "Summit" not in texts(refused)  # nothing of the order is shown
    assert refused[0].payloads == ["flow:verify", "flow:leave"]
    left = await ana.press("flow:leave")
    assert "stopped there" in left[0].text
    assert "Summit" not in texts(left)


async def test_a_question_mid_form_is_answered_and_the_form_resumes(
    ana: Thread, backend: DemoCommerce
) -> None:
    await ana.web("I need to cancel an order")
    faq = await ana.web("how long do refunds take?")
    assert faq[0].meta["article_id"] == "refund-timing"
    assert "refund" in faq[0].text.lower()
    assert faq[-1].text.startswith("Back to where we were:")
    assert "slot:FH-310577" in faq[-1].payloads
    confirm = await ana.web("FH-310577")
    assert confirm[0].text.startswith("Cancel order FH-310577?")
    assert confirm[0].payloads == ["slot:yes", "slot:no"]
    done = await ana.sms("yes please")
    assert done[0].channel == "sms"
    assert "FH-310577 is cancelled" in done[0].text
    order = await backend.order("FH-310577")
    assert order is not None
    assert order.status == "cancelled"


async def test_cancel_leaves_the_form_and_nothing_changes(
    ana: Thread, backend: DemoCommerce
) -> None:
    await ana.web("cancel my order")
    await ana.press("slot:FH-310577")
    left = await ana.sms("cancel")
    assert "stopped there" in left[0].text
    order = await backend.order("FH-310577")
    assert order is not None
    assert order.status == "processing"


async def test_never_mind_leaves_the_form(ana: Thread) -> None:
    await ana.web("I need to change the shipping address on my order")
    asked = await ana.sms("FH-310577")
    assert "new delivery address" in asked[0].text
    left = await ana.sms("never mind")
    assert "stopped there" in left[0].text
    after = await ana.sms("how long does shipping take")
    assert "business days" in after[0].text


async def test_backend_down_offers_a_person_and_hands_off(
    ana: Thread, backend: DemoCommerce
) -> None:
    backend.down = True
    down = await ana.web("where is my order FH-482913")
    assert "can't reach our order system" in down[0].text
    assert down[0].payloads == ["flow:handoff:backend_error", "flow:leave"]
    handed = await ana.press("flow:handoff:backend_error")
    assert handed[0].meta["decision"] == "handoff"
    # No Slack in this test: the desk says honestly that nobody can take over (tests/handoff
    # covers the handoff itself).
    assert handed[0].text == HANDOFF_UNAVAILABLE


async def test_two_failed_tries_at_a_slot_offer_a_person(ana: Thread) -> None:
    await ana.sms("change my delivery address")
    await ana.sms("FH-310577")
    first = await ana.sms("the blue house")
    assert "street and number" in first[0].text
    second = await ana.sms("next to the park")
    assert "Would you like a person" in second[-1].text
    assert second[-1].payloads == ["flow:handoff:flow_failed", "flow:leave"]


async def test_change_the_address_by_sms_with_numbered_choices(
    ana: Thread, fake: FakeProviders, backend: DemoCommerce
) -> None:
    await ana.sms("please change the shipping address for FH-310577")
    confirm = await ana.sms("418 Elm St, Madison, WI 53703")
    assert "to 418 Elm St, Madison, WI 53703?" in confirm[0].text
    await fake.wait_for(lambda r: r.provider == "twilio" and r.method == "POST", count=2)
    assert "1. Yes" in sms_to(fake, ANA)[-1]  # buttons are numbered lines on SMS
    done = await ana.sms("1")
    assert "will be delivered to 418 Elm St, Madison, WI 53703" in done[0].text
    order = await backend.order("FH-310577")
    assert order is not None
    assert order.shipping_address == "418 Elm St, Madison, WI 53703"


async def test_cancelling_after_the_window_offers_a_person(ana: Thread) -> None:
    await ana.web("cancel FH-482913")
    late = await ana.web("yes")
    assert "past the 60-minute window" in late[0].text
    assert late[0].payloads[0] == "flow:handoff:cancel_too_late"


async def test_a_return_with_a_wrong_item_then_the_right_one(ana: Thread) -> None:
    asked = await ana.web("I want to return something")
    assert "Which order" in asked[0].text
    items = await ana.sms("FH-482913")
    assert "Which item" in items[0].text
    wrong = await ana.sms("the tent")
    assert "couldn't match" in wrong[0].text
    opened = await ana.sms("the rain jacket")
    assert "Ridgeline rain jacket is open" in opened[0].text
    assert "label.pdf" in opened[0].text


async def test_password_reset_never_says_whether_the_account_exists(
    anonymous: Thread, backend: DemoCommerce
) -> None:
    await anonymous.web("I forgot my password")
    bad = await anonymous.web("my email is jordan at example")
    assert "doesn't look like an email" in bad[0].text
    known = await anonymous.web("jordan.lee@example.com")
    await anonymous.web("reset my password, my email is nobody@example.org")
    unknown_reply = (await anonymous.store.transcript.entries(anonymous.conversation_id))[-1].text
    assert known[0].text.replace("jordan.lee@example.com", "X") == unknown_reply.replace(
        "nobody@example.org", "X"
    )
    assert backend.password_resets[-2:] == ["jordan.lee@example.com", "nobody@example.org"]


async def test_a_one_time_code_to_the_orders_phone_opens_it(
    anonymous: Thread, fake: FakeProviders
) -> None:
    refused = await anonymous.web("where is my order FH-482913")
    assert "+1******0123" in refused[0].text
    sent = await anonymous.press("flow:verify")
    assert "texted a 6-digit code" in sent[0].text
    (code_sms,) = await fake.wait_for(lambda r: r.provider == "twilio" and r.method == "POST")
    assert code_sms.form["To"] == ANA
    code = re.search(r"\d{6}", code_sms.form["Body"]).group()
    wrong = "000000" if code != "000000" else "111111"
    assert "doesn't match" in (await anonymous.web(wrong))[0].text
    opened = await anonymous.web(code)
    assert "confirmed" in opened[0].text
    assert "Order FH-482913" in opened[1].text
    assert code not in " ".join(await anonymous.customer_entries())
    record = await anonymous.store.customers.get(anonymous.customer_id)
    assert ("phone", ANA) in {(i.channel, i.address) for i in record.identities}


async def test_a_password_reset_by_sms(ana: Thread, backend: DemoCommerce) -> None:
    asked = await ana.sms("forgot pw")
    assert "email address of your Fernhill account" in asked[0].text
    sent = await ana.sms("it's Ana.Garcia@example.com")
    assert sent[0].channel == "sms"
    assert "If ana.garcia@example.com has a Fernhill account" in sent[0].text
    assert backend.password_resets == ["ana.garcia@example.com"]


async def test_hello_thanks_goodbye(anonymous: Thread) -> None:
    assert "Hi!" in (await anonymous.web("hello"))[0].text
    assert "welcome" in (await anonymous.web("thanks so much"))[0].text
    assert "great day" in (await anonymous.web("ok bye"))[0].text
