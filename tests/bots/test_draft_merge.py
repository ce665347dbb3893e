"""Two designers edit the bot at once: edits to different items merge, edits to the same item are shown
to a person, and nothing either of them did is silently lost."""
from __future__ import annotations

import copy
from typing import Any

from bots.content import content_from_json, content_to_json
from bots.draft_merge import MergeConflict, merge_drafts
from bots.starter import load_starter

BASE = content_to_json(load_starter())


def edited(**changes: Any) -> dict[str, Any]:
    content = copy.deepcopy(BASE)
    for collection, change in changes.items():
        change(content[collection])
    return content


def intent(content: dict[str, Any], name: str) -> dict[str, Any]:
    return next(i for i in content["intents"] if i["name"] == name)


def test_edits_to_different_intents_both_land() -> None:
    first, second = BASE["intents"][0]["name"], BASE["intents"][1]["name"]
    mine = edited(intents=lambda items: items[0]["examples"].append({"text": "good evening"}))
    theirs = edited(intents=lambda items: items[1]["examples"].append({"text": "再见啦"}))
    result = merge_drafts(BASE, mine, theirs)
    assert result.conflicts == () and result.took_theirs
    assert {"text": "good evening"} in intent(result.content, first)["examples"]
    assert {"text": "再见啦"} in intent(result.content, second)["examples"]
    content_from_json(result.content)  # still a valid bot


def test_an_added_response_and_a_deleted_intent_both_land_in_order() -> None:
    doomed = BASE["intents"][-1]["name"]
    mine = edited(responses=lambda items: items.append({"name": "utter_hours", "variations": [{"text": "9–18 点"}]}))
    theirs = edited(intents=lambda items: items.pop())
    result = merge_drafts(BASE, mine, theirs)
    assert result.conflicts == ()
    assert doomed not in [i["name"] for i in result.content["intents"]]
    assert result.content["responses"][-1]["name"] == "utter_hours"
    assert [r["name"] for r in result.content["responses"][:-1]] == [r["name"] for r in BASE["responses"]]


def test_with_nobody_else_saving_mine_is_the_result() -> None:
    mine = edited(intents=lambda items: items.reverse())
    result = merge_drafts(BASE, mine, BASE)
    assert result.content == mine and not result.took_theirs and result.conflicts == ()


def test_the_same_edit_on_both_sides_is_no_conflict() -> None:
    change = edited(intents=lambda items: items[0]["examples"].append({"text": "yo"}))
    result = merge_drafts(BASE, change, copy.deepcopy(change))
    assert result.content == change and result.conflicts == ()


def test_different_edits_to_one_intent_or_an_edit_against_a_delete_conflict() -> None:
    name = BASE["intents"][0]["name"]
    mine = edited(intents=lambda items: items[0]["examples"].append({"text": "mine"}))
    theirs = edited(intents=lambda items: items[0]["examples"].append({"text": "theirs"}))
    assert merge_drafts(BASE, mine, theirs).conflicts == (MergeConflict("intent", name, "changed", "changed"),)

    deleted = edited(intents=lambda items: items.pop(0))
    assert merge_drafts(BASE, mine, deleted).conflicts == (MergeConflict("intent", name, "changed", "deleted"),)


def test_both_adding_the_same_name_differently_conflicts() -> None:
    mine = edited(synonyms=lambda items: items.append({"value": "退款", "examples": ["退钱"]}))
    theirs = edited(synonyms=lambda items: items.append({"value": "退款", "examples": ["返款"]}))
    [conflict] = merge_drafts(BASE, mine, theirs).conflicts
    assert conflict.as_json() == {"kind": "synonym", "name": "退款", "mine": "added", "theirs": "added"}
