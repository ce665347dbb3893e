"""A bot whose brain is a remote Rasa server, talked to over a real loopback socket."""
from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest

from bots.rasa_remote import (
    BotReply,
    IntentScore,
    ParsedEntity,
    RasaMode,
    RasaProtocolError,
    RasaRejected,
    RasaRemote,
    RasaRemoteConfig,
    RasaUnavailable,
    parse_nlu_result,
    parse_rest_replies,
)
from channels.base import Button
from tests.fakes.rasa_server import FakeRasa


@pytest.fixture
async def rasa() -> AsyncIterator[FakeRasa]:
    async with FakeRasa() as fake:
        yield fake


@pytest.fixture
async def guarded_rasa() -> AsyncIterator[FakeRasa]:
    async with FakeRasa(token="s3cret") as fake:
        yield fake


async def test_in_rest_mode_rasa_answers_the_customer(rasa: FakeRasa) -> None:
    async with RasaRemote(RasaRemoteConfig(rasa.url)) as bot:
        greeting = await bot.send("conv-17", "hello there", metadata={"channel": "webchat"})
        order = await bot.send("conv-17", "where is order A1234567?")
        refund = await bot.send("conv-17", "I want my money back")

    # Rasa sends a plain text response one paragraph at a time
    assert [r.text for r in greeting] == ["Hi!", "How can I help?"]
    assert {r.recipient_id for r in greeting} == {"conv-17"}
    assert order == [BotReply(
        text="Order A1234567 is on its way.\n\nAnything else?",
        buttons=(Button("Track parcel", "/track_parcel"), Button("Talk to a person", "/human_handoff")),
        recipient_id="conv-17",
    )]
    # text, custom payload and image arrive as separate messages, in Rasa's order
    assert [(r.text, r.custom, r.image) for r in refund] == [
        ("Refunds take 5-7 working days.", None, None),
        ("", {"kind": "refund_form", "fields": ["order_id", "reason"]}, None),
        ("", None, "https://example.com/refund-steps.png"),
    ]
    assert rasa.calls_to("/webhooks/rest/webhook")[0].body == {
        "sender": "conv-17", "message": "hello there", "metadata": {"channel": "webchat"}}


async def test_rasa_may_have_nothing_to_say(rasa: FakeRasa) -> None:
    async with RasaRemote(RasaRemoteConfig(rasa.url)) as bot:
        assert await bot.send("conv-1", "get me a human") == []


async def test_in_parse_mode_rasa_only_understands(rasa: FakeRasa) -> None:
    async with RasaRemote(RasaRemoteConfig(rasa.url, mode="parse")) as bot:
        assert bot.config.mode is RasaMode.PARSE
        result = await bot.parse("我的订单A1234567到哪了", message_id="m-1")
        unsure = await bot.parse("what's the weather")

    assert result.text == "我的订单A1234567到哪了"
    assert result.intent == IntentScore("order_status", 0.625)
    assert [s.name for s in result.ranking] == ["order_status", "greet", "refund", "human_handoff"]
    assert result.ranking == tuple(sorted(result.ranking, key=lambda s: -s.confidence))
    # offsets count characters, so they slice the Chinese text correctly
    assert result.entities == (ParsedEntity("order_id", "A1234567", 4, 12, extractor="RegexEntityExtractor"),)
    assert result.text[4:12] == "A1234567"
    assert unsure.intent == IntentScore("nlu_fallback", 0.3)
    assert rasa.calls_to("/model/parse")[0].body == {"text": "我的订单A1234567到哪了", "message_id": "m-1"}


async def test_the_token_goes_in_the_query_like_rasas_http_api_wants(guarded_rasa: FakeRasa) -> None:
    async with RasaRemote(RasaRemoteConfig(guarded_rasa.url, token="s3cret")) as bot:
        assert [r.text for r in await bot.send("c", "hi")] == ["Hi!", "How can I help?"]
        assert await bot.version() == "3.6.20"
    assert all(call.query == {"token": "s3cret"} for call in guarded_rasa.calls)


async def test_a_wrong_token_is_refused_and_never_echoed(guarded_rasa: FakeRasa) -> None:
    async with RasaRemote(RasaRemoteConfig(guarded_rasa.url, token="guess")) as bot:
        with pytest.raises(RasaRejected) as caught:
            await bot.parse("hi")
    assert (caught.value.status, caught.value.reason) == (401, "NotAuthenticated")
    assert "User is not authenticated." in str(caught.value)
    assert "guess" not in str(caught.value)


async def test_a_channel_rasa_does_not_have_is_refused(rasa: FakeRasa) -> None:
    async with RasaRemote(RasaRemoteConfig(rasa.url, channel="socketio")) as bot:
        with pytest.raises(RasaRejected) as caught:
            await bot.send("c", "hi")
    assert caught.value.status == 404


async def test_a_slow_rasa_is_given_up_on_so_the_bot_can_hand_off(rasa: FakeRasa) -> None:
    rasa.delay = 2.0
    async with RasaRemote(RasaRemoteConfig(rasa.url, timeout=0.2)) as bot:
        started = time.monotonic()
        with pytest.raises(RasaUnavailable, match=r"did not answer /webhooks/rest/webhook within 0\.2s"):
            await bot.send("c", "hi")
    assert time.monotonic() - started < 1.5


async def test_a_failing_rasa_is_unavailable_and_recovers(rasa: FakeRasa) -> None:
    rasa.fail(status=503)
    async with RasaRemote(RasaRemoteConfig(rasa.url, mode="parse")) as bot:
        with pytest.raises(RasaUnavailable) as caught:
            await bot.parse("hi")
        assert caught.value.status == 503
        assert (await bot.parse("hi")).intent == IntentScore("greet", 0.625)


async def test_a_dropped_connection_is_unavailable(rasa: FakeRasa) -> None:
    rasa.hang_up()
    async with RasaRemote(RasaRemoteConfig(rasa.url)) as bot:
        with pytest.raises(RasaUnavailable, match="could not be reached"):
            await bot.send("c", "hi")


async def test_nobody_listening_is_unavailable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with RasaRemote(RasaRemoteConfig(f"http://127.0.0.1:{port}", timeout=2)) as bot:
        with pytest.raises(RasaUnavailable, match="could not be reached"):
            await bot.parse("hi")


async def test_an_answer_that_is_not_json_is_a_protocol_error(rasa: FakeRasa) -> None:
    rasa.answer_garbage()
    async with RasaRemote(RasaRemoteConfig(rasa.url)) as bot:
        with pytest.raises(RasaProtocolError, match="not JSON"):
            await bot.send("c", "hi")


async def test_a_shared_session_is_left_open_for_its_owner(rasa: FakeRasa) -> None:
    async with aiohttp.ClientSession() as session:
        async with RasaRemote(RasaRemoteConfig(rasa.url + "/"), session) as bot:
            await bot.parse("hi")
        assert not session.closed
    assert rasa.calls_to("/model/parse")  # a trailing slash in the URL does not double up


async def test_rasa_behind_a_proxy_path_is_reached_under_that_path() -> None:
    async with FakeRasa(prefix="/rasa") as fake, RasaRemote(RasaRemoteConfig(fake.url, mode="parse")) as bot:
        assert fake.url.endswith("/rasa")
        assert (await bot.parse("hello")).intent == IntentScore("greet", 0.625)
        assert await bot.version() == "3.6.20"
    assert [call.path for call in fake.calls] == ["/rasa/model/parse", "/rasa/version"]


def test_answers_shaped_as_rasas_docs_show_become_kefu_types() -> None:
    replies = parse_rest_replies([
        {"recipient_id": "u", "text": "Hey Rasa!"},
        {"recipient_id": "u", "image": "http://example.com/image.jpg"},
        {"recipient_id": "u", "text": "Pick", "buttons": [{"title": "Yes"}, {"title": "No", "payload": "/deny"}]},
        {"recipient_id": "u", "elements": [{"title": "card"}]},
    ])
    assert replies[1].image == "http://example.com/image.jpg"
    assert replies[2].buttons == (Button("Yes", "Yes"), Button("No", "/deny"))
    assert replies[3].extra == {"elements": [{"title": "card"}]}

    parsed = parse_nlu_result({
        "text": "book a flight to Berlin for 3 people",
        "intent": {"name": "book_flight", "confidence": 0.98, "id": 42},
        "entities": [
            {"entity": "city", "start": 17, "end": 23, "value": "Berlin", "confidence_entity": 0.97,
             "role": "to", "extractor": "DIETClassifier", "processors": []},
            {"entity": "number", "start": 28, "end": 29, "value": 3, "extractor": "DucklingEntityExtractor"},
        ],
        "intent_ranking": [{"name": "book_flight", "confidence": 0.98}, {"name": "greet", "confidence": 0.02}],
        "response_selector": {},
    })
    assert parsed.entities[0] == ParsedEntity("city", "Berlin", 17, 23, 0.97, role="to", extractor="DIETClassifier")
    assert parsed.entities[1].value == 3
    assert parse_nlu_result({"text": "x", "intent": {"name": None, "confidence": 0.0}, "entities": []}).intent is None


@pytest.mark.parametrize(
    "answer",
    [{"text": "hi"}, [{"text": 3}], [{"buttons": "yes"}], ["hi"]],
)
def test_rest_answers_of_the_wrong_shape_are_protocol_errors(answer: object) -> None:
    with pytest.raises(RasaProtocolError):
        parse_rest_replies(answer)


@pytest.mark.parametrize(
    "answer",
    [[], {"intent": "greet"}, {"intent": {"name": "greet", "confidence": "high"}}, {"entities": [{"value": 1}]},
     {"entities": [{"entity": "x", "start": "0"}]}, {"intent_ranking": {}}],
)
def test_parse_answers_of_the_wrong_shape_are_protocol_errors(answer: object) -> None:
    with pytest.raises(RasaProtocolError):
        parse_nlu_result(answer)


def test_settings_come_from_the_environment_or_a_bots_stored_settings() -> None:
    assert RasaRemoteConfig.from_env({}) is None
    config = RasaRemoteConfig.from_env({
        "KEFU_RASA_URL": "https://rasa.internal:5005/bot", "KEFU_RASA_MODE": "PARSE", "KEFU_RASA_TOKEN": "t",
        "KEFU_RASA_TIMEOUT": "2.5", "KEFU_RASA_CHANNEL": "kefu",
    })
    assert config == RasaRemoteConfig("https://rasa.internal:5005/bot", RasaMode.PARSE, "t", 2.5, "kefu")
    assert RasaRemoteConfig.from_mapping(config.to_mapping()) == config


@pytest.mark.parametrize(
    ("settings", "complaint"),
    [
        ({"url": "rasa:5005"}, "http"),
        ({"url": "http://rasa:5005", "mode": "chat"}, "'rest' or 'parse'"),
        ({"url": "http://rasa:5005", "timeout": 0}, "positive"),
        ({"url": "http://rasa:5005", "channel": "a/b"}, "channel name"),
        ({"url": "http://rasa:5005", "tokn": "x"}, "unknown Rasa setting"),
        ({"mode": "rest"}, "needs a 'url'"),
    ],
)
def test_bad_settings_are_refused_when_the_bot_is_configured(settings: dict[str, object], complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        RasaRemoteConfig.from_mapping(settings)


def test_a_timeout_that_is_not_a_number_is_refused() -> None:
    with pytest.raises(ValueError, match="KEFU_RASA_TIMEOUT"):
        RasaRemoteConfig.from_env({"KEFU_RASA_URL": "http://rasa:5005", "KEFU_RASA_TIMEOUT": "soon"})
