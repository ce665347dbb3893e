"""Importing older bots kept in Rasa's legacy `rasa_nlu_data` JSON, including the real HWU64 benchmark files."""
from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from bots.content import EntitySpan, LookupTable, RegexFeature, Synonym
from bots.rasa_format import RasaFormatError, read_nlu_file, read_nlu_text, read_rasa_json_text, write_nlu

FIXTURES = Path(__file__).parent.parent / "fixtures" / "rasa"
HWU64 = Path("/work/shared/bench-data/hwu64")
needs_hwu64 = pytest.mark.skipif(not (HWU64 / "rasa_json_kfold1").is_dir(), reason="HWU64 bench data not present")


@needs_hwu64
def test_hwu64_training_file_gives_exactly_the_published_text_and_labels() -> None:
    nlu = read_nlu_file(HWU64 / "rasa_json_kfold1" / "train.json")

    assert len(nlu.intents) == 64
    with (HWU64 / "train.csv").open(newline="", encoding="utf-8") as handle:
        published = Counter((row["text"], row["category"]) for row in csv.DictReader(handle))
    assert Counter(nlu.training_pairs()) == published
    assert sum(len(e.entities) for i in nlu.intents for e in i.examples) == 8253
    assert nlu.regex_features[0] == RegexFeature("alarm_key_0", ("alarm",))

    first = nlu.intent("iot_hue_lightdim").examples[0]
    assert first.text == "lower the lights in the bedroom"
    assert first.entities == (EntitySpan(24, 31, "house_place", "bedroom"),)


@needs_hwu64
def test_hwu64_test_file_becomes_rasa_3_yaml_that_reads_back_the_same() -> None:
    nlu = read_nlu_file(HWU64 / "rasa_json_kfold1" / "test.json")
    assert len(nlu.training_pairs()) == 1076
    written = write_nlu(nlu)
    assert "- intent: alarm_query\n  examples: |\n" in written
    assert read_nlu_text(written) == nlu


def test_a_legacy_bot_with_synonyms_regexes_and_lookup_files() -> None:
    nlu = read_nlu_file(FIXTURES / "legacy" / "nlu.json")

    assert nlu.training_pairs() == [
        ("hello", "greet"), ("hi there", "greet"),
        ("I want to fly from Berlin to SF", "book_flight"), ("3 tickets please", "book_flight"),
    ]
    trip = nlu.intent("book_flight").examples[0]
    assert [(trip.covered(s), s.value, s.role) for s in trip.entities] == [
        ("Berlin", "Berlin", "from"), ("SF", "San Francisco", "to")]
    assert nlu.intent("book_flight").examples[1].entities[0].value == "3"  # numbers from old extractors become text
    assert nlu.synonyms == (Synonym("San Francisco", ("SF", "San Fran")),)
    assert nlu.regex_features == (RegexFeature("zipcode", ("[0-9]{5}", "[0-9]{5}-[0-9]{4}")),)
    assert nlu.lookup_tables == (LookupTable("currency", ("Yen", "USD", "Euro")),
                                 LookupTable("city", ("Berlin", "San Francisco", "Shanghai")))
    assert read_nlu_text(write_nlu(nlu)) == nlu


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ('{"rasa_nlu_data": ', "not valid JSON"),
        ('{"common_examples": []}', "'rasa_nlu_data' object"),
        ('{"rasa_nlu_data": {"common_examples": {}}}', r"rasa_nlu_data\.common_examples must be a list"),
        ('{"rasa_nlu_data": {"common_examples": [{"text": "hi"}]}}', r"common_examples\[0\] has no intent"),
        ('{"rasa_nlu_data": {"common_examples": [{"text": "hi", "intent": "greet", "entities": [{"start": 0, '
         '"end": 5, "entity": "x"}]}]}}', r"common_examples\[0\]: entity span 0\.\.5 lies outside"),
        ('{"rasa_nlu_data": {"common_examples": [{"text": "hi", "intent": "g", "entities": [{"start": "0", '
         '"end": 1, "entity": "x"}]}]}}', r"entities\[0\] needs integer 'start' and 'end'"),
        ('{"rasa_nlu_data": {"entity_synonyms": [{"value": "x", "synonyms": "y"}]}}', "must be a list of strings"),
        ('{"rasa_nlu_data": {"regex_features": [{"name": "zip"}]}}', r"regex_features\[0\]\.pattern"),
        ('{"rasa_nlu_data": {"lookup_tables": [{"name": "c", "elements": "cities.txt"}]}}', "no folder to look in"),
    ],
)
def test_broken_legacy_files_say_what_is_wrong_and_where(text: str, complaint: str) -> None:
    with pytest.raises(RasaFormatError, match=complaint):
        read_rasa_json_text(text, "old.json")


def test_a_missing_lookup_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "nlu.json"
    path.write_text('{"rasa_nlu_data": {"lookup_tables": [{"name": "c", "elements": "gone.txt"}]}}', encoding="utf-8")
    with pytest.raises(RasaFormatError, match="cannot read 'gone.txt'"):
        read_nlu_file(path)
