"""The seed corpus shipped with the package."""
from __future__ import annotations

from collections import Counter

from hub.analysis.examples import CATEGORIES, load_seed, parse_seed_lines


def test_the_seed_has_every_category_and_plenty_of_routine_messages_in_both_languages() -> None:
    seed = load_seed()
    per_category = Counter(ex.category for ex in seed if ex.is_complaint)
    routine = [ex for ex in seed if not ex.is_complaint]

    assert set(per_category) == set(CATEGORIES)
    assert min(per_category.values()) >= 50
    assert len(routine) >= 300
    assert any("\u4e00" <= ch <= "\u9fff" for ex in routine for ch in ex.text)


def test_seed_lines_skip_comments_and_turn_escaped_newlines_into_line_breaks() -> None:
    lines = ["# a comment", "", "Dear team,\\nmy order is late."]

    (only,) = parse_seed_lines(lines, True, "delivery")

    assert only.text == "Dear team,\nmy order is late."
    assert only.category == "delivery" and not only.correction
