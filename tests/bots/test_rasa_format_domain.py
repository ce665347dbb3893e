"""A Rasa domain.yml's responses, intents and entities in Kefu, and a whole Rasa bot through Kefu's JSON."""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bots.content import ContentError, EntityType, Response, ResponseVariation, dumps_content, loads_content
from bots.rasa_format import (
    Domain,
    RasaFormatError,
    from_bot_content,
    read_domain,
    read_domain_text,
    read_nlu_file,
    read_nlu_text,
    to_bot_content,
    write_domain,
    write_nlu,
)
from channels.base import Button
from tests.bots.test_content import entity_types, json_values, names, responses

FIXTURES = Path(__file__).parent.parent / "fixtures" / "rasa"


def test_the_english_domain_gives_responses_with_buttons_images_channels_and_conditions() -> None:
    domain = read_domain(FIXTURES / "en" / "domain.yml")

    assert domain.intents == ("greet", "order_status", "refund", "change_address", "human_handoff", "goodbye")
    assert domain.intent_properties == {"human_handoff": {"use_entities": []}}
    city = next(e for e in domain.entities if e.name == "city")
    assert city == EntityType("city", roles=("from", "to"), groups=("delivery",))
    assert domain.entity_properties == {"store": {"influence_conversation": False}}

    responses = {r.name: r for r in domain.responses}
    order = responses["utter_order_status"].variations[0]
    assert order.text == "Order {order_id} is on its way."
    assert order.buttons == (Button("Track parcel", "/track_parcel"),
                             Button("Talk to a person", '/human_handoff{"reason": "order"}'))

    refund_everywhere, refund_on_telegram = responses["utter_refund_policy"].variations
    assert refund_everywhere.text == "Refunds take 5-7 working days.\nYou will get an email when it is done.\n"
    assert refund_everywhere.image == "https://example.com/refund-steps.png"
    assert refund_on_telegram.channel == "telegram"
    assert responses["utter_refund_policy"].candidates("telegram") == (refund_on_telegram,)
    assert responses["utter_refund_policy"].candidates("webchat") == (refund_everywhere,)

    greet = responses["utter_greet"]
    assert greet.variations[0].conditions == ({"type": "slot", "name": "logged_in", "value": True},)
    assert [v.text for v in greet.candidates("webchat", {"logged_in": True})] == ["Welcome back! How can I help?"]
    assert len(greet.candidates("webchat", {"logged_in": False})) == 2

    picker, fallback = responses["utter_date_picker"].variations
    assert picker.text is None
    # YAML 1.2 (what Rasa reads) has no dates: the payload stays plain JSON-able text
    assert picker.custom["blocks"][0]["accessory"]["initial_date"] == "2019-05-21"
    assert fallback.extra == {"id": "date_fallback", "metadata": {"rephrase": False}}

    assert domain.extra["session_config"] == {"session_expiration_time": 60, "carry_over_slots_to_new_session": True}
    assert domain.extra["slots"]["logged_in"]["type"] == "bool"


@pytest.mark.parametrize("language", ["en", "zh"])
def test_domains_survive_a_round_trip(language: str) -> None:
    domain = read_domain(FIXTURES / language / "domain.yml")
    written = write_domain(domain)
    assert written.startswith('version: "3.1"\n')
    assert read_domain_text(written) == domain


def test_a_chinese_domain_reads_as_written() -> None:
    domain = read_domain(FIXTURES / "zh" / "domain.yml")
    greet = next(r for r in domain.responses if r.name == "utter_问候")
    assert greet.candidates("webchat")[0].text == "您好，欢迎光临！"
    assert greet.candidates("telegram")[0].text == "您好！请问有什么可以帮您？"
    assert "utter_查询订单" in write_domain(domain)  # written as text, not \\u escapes


@pytest.mark.parametrize("language", ["en", "zh"])
def test_a_rasa_bot_goes_through_kefus_json_and_back_to_rasa_unchanged(language: str) -> None:
    nlu = read_nlu_file(FIXTURES / language / "nlu.yml")
    domain = read_domain(FIXTURES / language / "domain.yml")

    bot = to_bot_content(nlu, domain)
    assert loads_content(dumps_content(bot)) == bot

    nlu_again, domain_again = from_bot_content(loads_content(dumps_content(bot)))
    assert read_nlu_text(write_nlu(nlu_again)) == nlu_again
    # the same intents and examples, plus the domain's intents that have no examples yet
    assert tuple(i for i in nlu_again.intents if i.examples) == nlu.intents
    assert (nlu_again.synonyms, nlu_again.lookup_tables) == (nlu.synonyms, nlu.lookup_tables)
    assert {r.name for r in domain_again.responses} == {r.name for r in domain.responses}
    assert set(domain.intents) <= set(domain_again.intents)


def test_domain_intents_without_examples_and_undeclared_entities_join_the_bot() -> None:
    nlu = read_nlu_file(FIXTURES / "en" / "nlu.yml")
    bot = to_bot_content(nlu, read_domain(FIXTURES / "en" / "domain.yml"))
    assert bot.nlu.intent("goodbye") is not None and bot.nlu.intent("goodbye").examples == ()
    assert [e.name for e in to_bot_content(nlu).entities] == ["order_id", "product", "account", "city", "store"]


@pytest.mark.parametrize(
    ("text", "line", "complaint"),
    [
        ("responses:\n  utter_x:\n  - buttons:\n    - title: Go\n      payload: /go\n", 3,
         "needs a 'text' or a 'custom'"),
        ("responses:\n  utter_x:\n  - text: hi\n    buttons:\n    - title: Docs\n      url: https://x\n", 5,
         "exactly 'title' and 'payload'"),
        ("responses:\n  utter_x:\n  - text: hi\n    colour: red\n", 3, "unsupported key.*'colour'"),
        ("responses:\n  utter_x: hi\n", 2, "non-empty list of variations"),
        ("responses:\n  utter_x: []\n", 2, "non-empty list of variations"),
        ("responses:\n- utter_x\n", 2, "'responses' must map"),
        ("responses:\n  utter_x:\n  - text: hi\n    condition: {type: slot}\n", 3, "'condition'.*list of mappings"),
        ("responses:\n  utter_x:\n  - text: [hi]\n", 3, "must be text"),
        ("intents: greet\n", 1, "'intents' must be a list"),
        ("intents:\n- greet: {a: 1}\n  bye: {}\n", 2, "single 'name: {...}' mapping"),
        ("entities:\n- city:\n    roles: from\n", 3, "roles of entity 'city' must be a list"),
        ("responses:\n  utter_x:\n  - text: a\n  utter_x:\n  - text: b\n", 4, "duplicate key 'utter_x'"),
        ("responses:\n  utter_x:\n  - text: 'unclosed\n", 4, "not valid YAML"),
    ],
)
def test_broken_domains_say_where_and_why(text: str, line: int, complaint: str) -> None:
    with pytest.raises(RasaFormatError, match=complaint) as caught:
        read_domain_text(text, "domain.yml")
    assert (caught.value.source, caught.value.line) == ("domain.yml", line)


def test_numbers_where_text_belongs_are_read_as_text() -> None:
    domain = read_domain_text("responses:\n  utter_code:\n  - text: 404\n    buttons:\n    - {title: 1, payload: 2}\n")
    assert domain.responses[0].variations[0] == ResponseVariation("404", buttons=(Button("1", "2"),))


extras = st.dictionaries(st.sampled_from(["slots", "forms", "actions", "session_config", "config"]), json_values,
                         max_size=2)


@st.composite
def domains(draw: st.DrawFn) -> Domain:
    """Domains with properties on some intents and entities and extra top-level sections."""
    intents = tuple(draw(st.lists(names(), max_size=3, unique=True)))
    entities = draw(entity_types)
    props = st.dictionaries(st.sampled_from(["use_entities", "ignore_entities", "influence_conversation"]),
                            json_values, min_size=1, max_size=2)
    return Domain(
        intents=intents,
        entities=entities,
        responses=draw(responses),
        intent_properties={n: draw(props) for n in intents if draw(st.booleans())},
        entity_properties={e.name: draw(props) for e in entities if draw(st.booleans())},
        extra=draw(extras),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(domains())
def test_any_domain_round_trips(domain: Domain) -> None:
    assert read_domain_text(write_domain(domain)) == domain


def test_a_response_variation_without_text_or_payload_cannot_even_be_built() -> None:
    with pytest.raises(ContentError):
        Response("utter_x", (ResponseVariation(image="https://example.com/a.png"),))
