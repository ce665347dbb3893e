"""The whole trip through a running hub: a customer texts in, an agent's reply goes out, Twilio reports back."""
from __future__ import annotations

from hub.actions import SYSTEM
from tests.channels.sms.conftest import AUTH_TOKEN, CUSTOMER, RunningHub, fixture
from tests.fakes.twilio_api import FakeTwilioApi, post_signed


async def test_a_texted_question_is_stored_once_and_the_reply_is_delivered(
    running_hub: RunningHub, twilio_api: FakeTwilioApi
) -> None:
    inbound = running_hub.url("/channels/twilio/sms/inbound")
    form = fixture("inbound_sms")
    assert await post_signed(inbound, form, AUTH_TOKEN) == 200
    assert await post_signed(inbound, form, AUTH_TOKEN) == 200  # Twilio retried
    conversation = await running_hub.conversation_of("sms", CUSTOMER)
    [question] = await running_hub.queries.messages(conversation)
    assert (question["text"], question["channel"]) == (form["Body"], "sms")

    text = "您好！您的包裹已于今天上午从上海仓库发出，预计两到三个工作日送达，请保持电话畅通。" * 20
    reply_id = await running_hub.actions.post_reply(conversation, SYSTEM, text)
    sent = await running_hub.wait_for_status(reply_id, "sent")
    parts = twilio_api.accepted
    assert len(parts) == 2 and "".join(p.body for p in parts) == text
    assert all(p.to == CUSTOMER for p in parts)

    for part in parts:
        assert await twilio_api.fire_status(part.sid or "", "delivered") == 200
    delivered = await running_hub.wait_for_status(reply_id, "delivered")
    assert delivered["delivery_error"] is None and sent["id"] == reply_id


async def test_a_whatsapp_customer_gets_the_reply_on_whatsapp(
    running_hub: RunningHub, twilio_api: FakeTwilioApi
) -> None:
    form = fixture("inbound_whatsapp")
    assert await post_signed(running_hub.url("/channels/twilio/whatsapp/inbound"), form, AUTH_TOKEN) == 200
    conversation = await running_hub.conversation_of("whatsapp", "+8613912345678")
    reply_id = await running_hub.actions.post_reply(conversation, SYSTEM, "退货请在订单页点击“申请退货”。")
    await running_hub.wait_for_status(reply_id, "sent")
    [sent] = twilio_api.accepted
    assert (sent.to, sent.form["From"]) == ("whatsapp:+8613912345678", "whatsapp:+14155238886")
    assert await twilio_api.fire_status(sent.sid or "", "read") == 200
    await running_hub.wait_for_status(reply_id, "read")


async def test_a_recipient_twilio_has_blocked_ends_failed_with_21610(
    running_hub: RunningHub, twilio_api: FakeTwilioApi
) -> None:
    assert await post_signed(running_hub.url("/channels/twilio/sms/inbound"), fixture("inbound_sms"), AUTH_TOKEN) == 200
    conversation = await running_hub.conversation_of("sms", CUSTOMER)
    twilio_api.unsubscribed.add(CUSTOMER)
    reply_id = await running_hub.actions.post_reply(conversation, SYSTEM, "Still there?")
    failed = await running_hub.wait_for_status(reply_id, "failed")
    assert failed["delivery_error"] == "twilio 21610: Attempt to send to unsubscribed recipient"
    assert len(twilio_api.received) == 1  # permanent: the outbox did not retry


async def test_an_outage_is_ridden_out_by_the_outbox(running_hub: RunningHub, twilio_api: FakeTwilioApi) -> None:
    assert await post_signed(running_hub.url("/channels/twilio/sms/inbound"), fixture("inbound_sms"), AUTH_TOKEN) == 200
    conversation = await running_hub.conversation_of("sms", CUSTOMER)
    twilio_api.fail_next(2, status=503)
    reply_id = await running_hub.actions.post_reply(conversation, SYSTEM, "Checking now.")
    await running_hub.wait_for_status(reply_id, "sent")
    assert [m.http_status for m in twilio_api.received] == [503, 503, 201]
