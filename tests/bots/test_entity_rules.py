"""A bot designer's lookup tables find their values in Chinese written without spaces as well as in
English, without matching inside longer English words."""
from __future__ import annotations

import pytest

from bots.content import BotContent, LookupTable, NluData, Synonym
from bots.engine import EntityRules

RULES = EntityRules.from_content(
    BotContent(
        nlu=NluData(
            lookup_tables=(
                LookupTable("day", ("周日", "星期天", "sunday", "sun")),
                LookupTable("product", ("iPhone", "扫地机器人")),
            ),
            synonyms=(Synonym("sunday", ("周日", "星期天", "sun")),),
        )
    )
)


def found(text: str) -> list[tuple[str, str, str]]:
    return [(e.entity, text[e.start:e.end], e.value) for e in RULES.find(text)]  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("周日你们几点营业", [("day", "周日", "sunday")]),
        ("你们星期天开门吗？", [("day", "星期天", "sunday")]),
        ("我的iPhone坏了", [("product", "iPhone", "iPhone")]),
        ("扫地机器人不转了", [("product", "扫地机器人", "扫地机器人")]),
        ("are you open on Sunday?", [("day", "Sunday", "Sunday")]),
        ("open on sun, 10-16", [("day", "sun", "sunday")]),
    ],
)
def test_values_are_found_with_or_without_spaces_around_them(text: str, expected: list[tuple[str, str, str]]) -> None:
    assert found(text) == expected


@pytest.mark.parametrize("text", ["sundays are quiet", "a sunny day", "iPhones and iPads", "my_iphone_case"])
def test_a_value_is_not_found_inside_a_longer_english_word(text: str) -> None:
    assert found(text) == []
