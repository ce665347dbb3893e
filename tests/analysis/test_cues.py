"""What agents see as the reasons behind a verdict, and how cues add up to severity."""
from __future__ import annotations

from hub.analysis.cues import Cue, find_cues, severity


def kinds(text: str, **kwargs: int) -> set[str]:
    return {cue.kind for cue in find_cues(text, **kwargs)}


def test_threats_are_recognised_in_both_languages() -> None:
    assert "legal" in kinds("If this isn't fixed I'll see you in small claims court")
    assert "legal" in kinds("再不处理我就起诉你们")
    assert "regulator" in kinds("I'm reporting you to Trading Standards")
    assert "regulator" in kinds("我已经打了12315")
    assert "threat_leave" in kinds("I'm switching to another provider next month")
    assert "threat_leave" in kinds("以后再也不买你们家的东西了")
    assert "public" in kinds("给你们差评")


def test_numbers_that_merely_contain_a_hotline_are_not_threats() -> None:
    assert "regulator" not in kinds("我们的税号是91110108123156789")
    assert "regulator" not in kinds("Invoice 4412315 attached")


def test_spam_folder_is_not_profanity_and_no_rush_is_not_urgency() -> None:
    assert "profanity" not in kinds("可能在垃圾邮件里")
    assert "urgency" not in kinds("没事，不着急")
    assert "urgency" in kinds("很急，今天必须到")


def test_shouting_needs_most_letters_in_capitals() -> None:
    assert "all_caps" in kinds("WHY HAVE YOU CHARGED ME TWICE")
    assert "all_caps" not in kinds("My USB cable from the UK store is missing")


def test_repeated_punctuation_is_an_exclamation_cue_in_both_widths() -> None:
    assert "exclamation" in kinds("where is it?!")
    assert "exclamation" in kinds("还没到！！")
    assert "exclamation" not in kinds("Thanks!")


def test_the_hub_supplied_contact_count_becomes_a_repeat_cue() -> None:
    assert "repeat_contact" not in kinds("my refund has not arrived", prior_contacts=1)
    assert "repeat_contact" in kinds("my refund has not arrived", prior_contacts=2)


def test_disclaimers_are_cues_too() -> None:
    assert "disclaimer" in kinds("Not a complaint, just asking about opening hours")
    assert "disclaimer" in kinds("不是投诉，只是问一下")


def test_cues_read_as_kind_and_phrase() -> None:
    assert str(Cue("regulator", "12315")) == "regulator: 12315"


def test_severity_adds_up_cue_points() -> None:
    assert severity([]) == "low"
    assert severity([Cue("problem", "broken"), Cue("negative_emotion", "disappointed")]) == "low"
    assert severity([Cue("urgency", "asap")]) == "medium"
    assert severity([Cue("repeat_contact", "third time"), Cue("exclamation", "?!")]) == "medium"
    assert severity([Cue("profanity", "damn"), Cue("all_caps", "WHERE IS IT")]) == "high"


def test_any_threat_to_leave_sue_or_report_is_high_on_its_own() -> None:
    for kind in ("legal", "regulator", "threat_leave"):
        assert severity([Cue(kind, "x")]) == "high"
