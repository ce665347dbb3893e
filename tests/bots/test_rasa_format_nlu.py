"""Bringing a Rasa 3.x nlu.yml into Kefu and back out again, in English and Chinese."""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from bots.content import EntitySpan, Example, Intent, NluData, Synonym
from bots.rasa_format import (
    RasaFormatError,
    parse_example,
    read_nlu_file,
    read_nlu_text,
    render_example,
    write_nlu,
)
from tests.bots.test_content import nlu_data

FIXTURES = Path(__file__).parent.parent / "fixtures" / "rasa"


def test_an_english_support_bot_is_read_with_its_entities_roles_and_metadata() -> None:
    nlu = read_nlu_file(FIXTURES / "en" / "nlu.yml")

    assert [i.name for i in nlu.intents] == ["greet", "order_status", "refund", "change_address", "human_handoff"]
    assert ("where is my order A1234567?", "order_status") in nlu.training_pairs()

    headphones = nlu.intent("order_status").examples[3]
    assert headphones.text == "when will my headphones arrive"
    assert headphones.entities == (EntitySpan(13, 23, "product", "wireless headphones"),)

    ear_buds = nlu.intent("refund").examples[3]  # the legacy `(entity:value)` synonym form
    assert ear_buds.entities == (EntitySpan(11, 19, "product", "wireless headphones"),)

    move, leeds, paris = nlu.intent("change_address").examples
    assert [(move.covered(s), s.role) for s in move.entities] == [("Berlin", "from"), ("Hamburg", "to")]
    assert leeds.entities[0].group == "delivery"
    assert [(s.entity, s.value) for s in paris.entities] == [("city", "Paris"), ("store", "paris-flagship")]

    handoff = nlu.intent("human_handoff")
    assert handoff.metadata == {"priority": "high"}
    assert handoff.examples[0] == Example("I want to talk to a person", metadata={"sentiment": "negative"})

    assert nlu.synonyms == (Synonym("wireless headphones", ("bluetooth headphones", "airpods")),)
    assert nlu.regex_features[0].patterns == (r"[A-Z]\d{7}",)
    assert nlu.lookup_tables[0].elements == ("Berlin", "Hamburg", "Leeds", "Paris")
    assert nlu.synonym_map()["ear buds"] == "wireless headphones"


def test_a_chinese_support_bot_keeps_offsets_in_characters() -> None:
    nlu = read_nlu_file(FIXTURES / "zh" / "nlu.yml")

    order = nlu.intent("查询订单").examples[0]
    assert order.text == "我的订单A1234567到哪了"
    assert [(order.covered(s), s.entity) for s in order.entities] == [("A1234567", "订单号")]
    earphones = nlu.intent("查询订单").examples[3]
    assert (earphones.covered(earphones.entities[0]), earphones.entities[0].value) == ("耳机", "蓝牙耳机")
    move = nlu.intent("修改地址").examples[0]
    assert [s.role for s in move.entities] == ["出发", "到达"]
    assert ("转人工", "转人工") in nlu.training_pairs()


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_fixtures_survive_a_round_trip(language: str) -> None:
    nlu = read_nlu_file(FIXTURES / language / "nlu.yml")
    written = write_nlu(nlu)
    assert written.startswith('version: "3.1"\nnlu:\n')
    assert read_nlu_text(written) == nlu


def test_the_writer_picks_the_shortest_markup_that_says_it_all() -> None:
    cases = {
        "[Berlin](city) please": Example("Berlin please", (EntitySpan(0, 6, "city"),)),
        'my [credit card]{"entity": "account", "value": "credit"}':
            Example("my credit card", (EntitySpan(3, 14, "account", "credit"),)),
        'to [LA]{"entity": "city", "role": "to", "group": "trip"}':
            Example("to LA", (EntitySpan(3, 5, "city", role="to", group="trip"),)),
        '[Rasa][{"entity": "org"}, {"entity": "product"}] rocks':
            Example("Rasa rocks", (EntitySpan(0, 4, "org"), EntitySpan(0, 4, "product"))),
        '[10:30]{"entity": "time:of:day"}': Example("10:30", (EntitySpan(0, 5, "time:of:day"),)),
    }
    for markup, example in cases.items():
        assert render_example(example) == markup
        assert parse_example(markup) == example


def test_examples_with_metadata_or_line_breaks_use_the_list_form() -> None:
    nlu = NluData((Intent("feedback", (Example("two\nlines"), Example("fine", metadata={"sentiment": "neutral"}))),))
    written = write_nlu(nlu)
    assert "- text: |-\n      two\n      lines\n" in written
    assert "metadata:\n      sentiment: neutral" in written
    assert read_nlu_text(written) == nlu


@pytest.mark.parametrize(
    ("example", "complaint"),
    [
        (Example("Berlin", (EntitySpan(0, 6, "city"), EntitySpan(3, 6, "part"))), "overlapping entities"),
        (Example("see [the docs](link) here"), "cannot express"),
        (Example("a ] b", (EntitySpan(0, 3, "x"),)), "cannot express"),
        (Example(" leading space"), "cannot express"),
        # Rasa cuts `[x][{...}, {...}]` at the first "}", so a value holding one cannot be written
        (Example("x", (EntitySpan(0, 1, "a", "v}"), EntitySpan(0, 1, "b"))), "cannot express"),
    ],
)
def test_what_rasa_markup_cannot_say_is_refused_rather_than_written_wrong(example: Example, complaint: str) -> None:
    with pytest.raises(RasaFormatError, match=complaint):
        write_nlu(NluData((Intent("x", (example,)),)))


def test_a_lookup_element_that_cannot_be_one_line_is_refused() -> None:
    from bots.content import LookupTable

    with pytest.raises(RasaFormatError, match="lookup 'city'"):
        write_nlu(NluData(lookup_tables=(LookupTable("city", ("New\nYork",)),)))


def test_yaml_1_2_reading_keeps_yes_and_no_as_words() -> None:
    nlu = read_nlu_text("nlu:\n- intent: affirm\n  metadata: {answer: yes, 'on': off}\n  examples: |\n    - yes\n")
    assert nlu.intents[0].metadata == {"answer": "yes", "on": "off"}
    assert read_nlu_text(write_nlu(nlu)) == nlu


def test_blank_lines_and_a_stray_dash_are_skipped_like_rasa_does() -> None:
    nlu = read_nlu_text("nlu:\n- intent: greet\n  examples: |\n    - hi\n\n    -\n    - hello\n")
    assert nlu.training_pairs() == [("hi", "greet"), ("hello", "greet")]


def test_an_intent_listed_twice_is_one_intent() -> None:
    nlu = read_nlu_text("nlu:\n- intent: greet\n  examples: |\n    - hi\n- intent: greet\n  examples: |\n    - yo\n")
    assert nlu.intents == (Intent("greet", (Example("hi"), Example("yo"))),)


def test_files_with_only_stories_or_nothing_hold_no_nlu() -> None:
    assert read_nlu_text("") == NluData()
    assert read_nlu_text('version: "3.1"\nstories:\n- story: s\n  steps: []\n') == NluData()


@pytest.mark.parametrize(
    ("text", "line", "complaint"),
    [
        ("nlu:\n- intent: greet\n  examples: |\n    - hi\n   - oops: [\n", 5, "not valid YAML"),
        ("nlu:\n- intent: greet\n  examples: |\n    - hi\n    hello\n", 5, "must start with '- '"),
        ("nlu:\n- intent: greet\n  exmples: |\n    - hi\n", 2, "unknown key.*'exmples'"),
        ("nlu:\n- intnt: greet\n", 2, "exactly one of 'intent', 'synonym', 'regex' or 'lookup'"),
        ("nlu:\n- intent: greet\n  synonym: hi\n", 2, "exactly one of"),
        ("nlu:\n- intent:\n  examples: |\n    - hi\n", 2, "intent must be a non-empty text"),
        ("nlu:\n- intent: book\n  examples: |\n    - to [Paris]{\"entity\": \"city\"\n", None, None),
        ("nlu:\n- intent: book\n  examples: |\n    - a\n    - to [Paris]{\"role\": \"to\"}\n", 5, 'has no "entity"'),
        ("nlu:\n- intent: book\n  examples: |\n    - to [Paris]{\"entity\": \"city\", \"colour\": \"red\"}\n", 4,
         "unknown key.*colour"),
        ("nlu:\n- intent: book\n  examples: |\n    - to [Paris]{'entity': 'city'}\n", 4, "not valid JSON"),
        ("nlu:\n- intent: book\n  examples: |\n    - see [1][2]\n", 4, "must be a list of"),
        ("nlu:\n- intent: book\n  examples:\n  - txt: hi\n", 4, "needs a 'text'"),
        ("nlu:\n- intent: book\n  examples: 42\n", 3, "block of '- ' lines"),
        ("nlu:\n  intent: greet\n", 2, "'nlu' must be a list"),
        ("nlu:\n- intent: a\n  examples: |\n    - x\n- intent: a\n  metadata: {m: 1}\n"
         "- intent: a\n  metadata: {m: 2}\n", 7, "different metadata"),
        ("nlu: []\nnlu: []\n", 2, "duplicate key 'nlu'"),
        ('version: "1.0"\nnlu: []\n', 1, "version '1.0' is not supported"),
        ("- intent: greet\n", 1, "YAML mapping at the top level"),
        ("nlu:\n- synonym: credit\n  examples:\n  - credit card\n", 4, "block of '- ' lines"),
    ],
)
def test_broken_files_say_where_and_why(text: str, line: int | None, complaint: str | None) -> None:
    if complaint is None:
        # an unclosed annotation is not markup at all, so Rasa (and Kefu) read it as plain words
        assert read_nlu_text(text).training_pairs() == [('to [Paris]{"entity": "city"', "book")]
        return
    with pytest.raises(RasaFormatError, match=complaint) as caught:
        read_nlu_text(text, "data/nlu.yml")
    assert caught.value.source == "data/nlu.yml"
    assert caught.value.line == line
    assert str(caught.value).startswith(f"data/nlu.yml, line {line}: ")


def test_a_file_that_is_not_utf8_is_a_format_error(tmp_path: Path) -> None:
    path = tmp_path / "nlu.yml"
    path.write_bytes("nlu:\n- intent: 问候\n".encode("gb18030"))
    with pytest.raises(RasaFormatError, match="not UTF-8"):
        read_nlu_file(path)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(nlu_data())
def test_everyday_text_always_round_trips(nlu: NluData) -> None:
    assert read_nlu_text(write_nlu(nlu)) == nlu


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(nlu_data(everyday=False))
def test_any_text_round_trips_or_is_refused_up_front(nlu: NluData) -> None:
    try:
        written = write_nlu(nlu)
    except RasaFormatError:
        return
    assert read_nlu_text(written) == nlu
