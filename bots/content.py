"""Kefu's bot content as a designer edits it and the database stores it: intents, responses, NLU extras."""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from channels.base import Button


class ContentError(ValueError):
    """Content that breaks the model's rules (a span outside its text, an empty name, ...)."""


def _check_name(kind: str, name: object) -> None:
    if not isinstance(name, str) or not name.strip():
        raise ContentError(f"{kind} name must be a non-empty string, got {name!r}")


def _check_strings(kind: str, values: tuple[object, ...]) -> None:
    for value in values:
        if not isinstance(value, str):
            raise ContentError(f"{kind} must be strings, got {value!r}")


@dataclass(frozen=True, slots=True)
class EntitySpan:
    """One annotated entity: text[start:end] is an `entity`, meaning `value` (None: the covered text)."""

    start: int
    end: int
    entity: str
    value: str | None = None
    role: str | None = None
    group: str | None = None


@dataclass(frozen=True, slots=True)
class Example:
    """One training utterance in plain text, with its entity spans in reading order."""

    text: str
    entities: tuple[EntitySpan, ...] = ()
    metadata: Any = None

    def __post_init__(self) -> None:
        if not isinstance(self.text, str) or not self.text.strip():
            raise ContentError(f"example text must be a non-empty string, got {self.text!r}")
        spans = []
        for span in self.entities:
            if isinstance(span.start, bool) or not isinstance(span.start, int) or not isinstance(span.end, int):
                raise ContentError(f"entity offsets must be integers in {self.text!r}")
            if not 0 <= span.start < span.end <= len(self.text):
                raise ContentError(
                    f"entity span {span.start}..{span.end} lies outside {self.text!r} (length {len(self.text)})"
                )
            _check_name("entity", span.entity)
            for attr in ("value", "role", "group"):
                if getattr(span, attr) is not None and not isinstance(getattr(span, attr), str):
                    raise ContentError(f"entity {attr} must be a string, got {getattr(span, attr)!r}")
            # value None means "what the user typed": store it spelled out so equal data compares equal
            spans.append(span if span.value is not None else replace(span, value=self.text[span.start : span.end]))
        # a stable sort keeps several entities on one span in the order they were annotated
        spans.sort(key=lambda s: (s.start, s.end))
        object.__setattr__(self, "entities", tuple(spans))

    def covered(self, span: EntitySpan) -> str:
        """The words of the text that `span` annotates."""
        return self.text[span.start : span.end]


@dataclass(frozen=True, slots=True)
class Intent:
    """What a customer means, taught by examples; `metadata` is kept for Rasa round trips."""

    name: str
    examples: tuple[Example, ...] = ()
    metadata: Any = None

    def __post_init__(self) -> None:
        _check_name("intent", self.name)


@dataclass(frozen=True, slots=True)
class Synonym:
    """Entity values that all mean `value` ("credit card account" -> "credit")."""

    value: str
    examples: tuple[str, ...]

    def __post_init__(self) -> None:
        _check_name("synonym", self.value)
        _check_strings("synonym examples", self.examples)


@dataclass(frozen=True, slots=True)
class RegexFeature:
    """Named regular expressions that help intent classification and entity extraction."""

    name: str
    patterns: tuple[str, ...]

    def __post_init__(self) -> None:
        _check_name("regex", self.name)
        _check_strings("regex patterns", self.patterns)


@dataclass(frozen=True, slots=True)
class LookupTable:
    """A named list of known entity values (banks, cities, product names)."""

    name: str
    elements: tuple[str, ...]

    def __post_init__(self) -> None:
        _check_name("lookup table", self.name)
        _check_strings("lookup elements", self.elements)


@dataclass(frozen=True, slots=True)
class EntityType:
    """An entity the bot knows, with the roles and groups its annotations may carry."""

    name: str
    roles: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_name("entity", self.name)
        _check_strings("entity roles", self.roles)
        _check_strings("entity groups", self.groups)


VARIATION_FIELDS = frozenset({"text", "buttons", "image", "custom", "channel", "condition", "conditions", "extra"})


@dataclass(frozen=True, slots=True)
class ResponseVariation:
    """One way to say a response; `channel` and `conditions` (slot tests, kept as written) pick it."""

    text: str | None = None
    buttons: tuple[Button, ...] = ()
    image: str | None = None
    custom: Mapping[str, Any] | None = None
    channel: str | None = None
    conditions: tuple[Mapping[str, Any], ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.text is None and not self.custom:
            raise ContentError("a response variation needs a text or a custom payload")
        if self.custom is not None and not isinstance(self.custom, Mapping):
            raise ContentError(f"a custom payload must be a mapping, got {self.custom!r}")
        clashing = sorted(set(self.extra) & VARIATION_FIELDS)
        if clashing:
            raise ContentError(f"extra keys clash with response fields: {', '.join(clashing)}")
        if self.text is not None and not isinstance(self.text, str):
            raise ContentError(f"response text must be a string, got {self.text!r}")
        for button in self.buttons:
            if not isinstance(button, Button):
                raise ContentError(f"buttons must be channels.base.Button, got {button!r}")

    def matches(self, slots: Mapping[str, Any]) -> bool:
        """True when every slot condition holds for these slot values (no conditions: always)."""
        for condition in self.conditions:
            if condition.get("type", "slot") != "slot":
                return False
            if slots.get(str(condition.get("name"))) != condition.get("value"):
                return False
        return True


@dataclass(frozen=True, slots=True)
class Response:
    """A named bot message (`utter_greet`) with the variations one is picked from."""

    name: str
    variations: tuple[ResponseVariation, ...]

    def __post_init__(self) -> None:
        _check_name("response", self.name)
        if not self.variations:
            raise ContentError(f"response {self.name!r} has no variations")

    def candidates(
        self, channel: str | None = None, slots: Mapping[str, Any] | None = None
    ) -> tuple[ResponseVariation, ...]:
        """The variations to pick from, by Rasa's rule: matching conditions first, then this channel, then any."""
        filled = slots or {}
        conditional = [v for v in self.variations if v.conditions and v.matches(filled)]
        default = [v for v in self.variations if not v.conditions]
        for pool in (conditional, default):
            for_channel = [v for v in pool if channel is not None and v.channel == channel]
            if for_channel:
                return tuple(for_channel)
            anywhere = [v for v in pool if v.channel is None]
            if anywhere:
                return tuple(anywhere)
        return ()


@dataclass(frozen=True, slots=True)
class NluData:
    """What an NLU model learns from: intents with examples, synonyms, regexes, lookup tables."""

    intents: tuple[Intent, ...] = ()
    synonyms: tuple[Synonym, ...] = ()
    regex_features: tuple[RegexFeature, ...] = ()
    lookup_tables: tuple[LookupTable, ...] = ()

    def training_pairs(self) -> list[tuple[str, str]]:
        """(plain text, intent name) for every example, in file order."""
        return [(example.text, intent.name) for intent in self.intents for example in intent.examples]

    def intent(self, name: str) -> Intent | None:
        """The intent called `name`, if there is one."""
        return next((intent for intent in self.intents if intent.name == name), None)

    def synonym_map(self) -> dict[str, str]:
        """Surface text -> normalised value, from synonym lists and from annotated entity values."""
        mapping: dict[str, str] = {}
        for intent in self.intents:
            for example in intent.examples:
                for span in example.entities:
                    surface = example.covered(span)
                    if span.value is not None and span.value != surface:
                        mapping[surface] = span.value
        for synonym in self.synonyms:
            for text in synonym.examples:
                mapping[text] = synonym.value
        return mapping

    def entity_names(self) -> tuple[str, ...]:
        """Every entity annotated in an example, in order of first use."""
        seen: dict[str, None] = {}
        for intent in self.intents:
            for example in intent.examples:
                for span in example.entities:
                    seen.setdefault(span.entity)
        return tuple(seen)

    def merged(self, other: NluData) -> NluData:
        """This data followed by `other`, with same-named items joined (several nlu files, one bot)."""
        return NluData(
            intents=merge_intents(self.intents + other.intents),
            synonyms=_merge_named(self.synonyms + other.synonyms, "value", "examples"),
            regex_features=_merge_named(self.regex_features + other.regex_features, "name", "patterns"),
            lookup_tables=_merge_named(self.lookup_tables + other.lookup_tables, "name", "elements"),
        )


def merge_intents(intents: tuple[Intent, ...]) -> tuple[Intent, ...]:
    """Join intents that share a name, keeping first-seen order; differing metadata is an error."""
    joined: dict[str, Intent] = {}
    for intent in intents:
        known = joined.get(intent.name)
        if known is None:
            joined[intent.name] = intent
            continue
        if intent.metadata is not None and known.metadata is not None and intent.metadata != known.metadata:
            raise ContentError(f"intent {intent.name!r} is defined twice with different metadata")
        metadata = known.metadata if known.metadata is not None else intent.metadata
        joined[intent.name] = Intent(intent.name, known.examples + intent.examples, metadata)
    return tuple(joined.values())


def _merge_named(items: tuple[Any, ...], key: str, values: str) -> tuple[Any, ...]:
    joined: dict[str, Any] = {}
    for item in items:
        name = getattr(item, key)
        known = joined.get(name)
        if known is not None:
            item = replace(known, **{values: getattr(known, values) + getattr(item, values)})
        joined[name] = item
    return tuple(joined.values())


@dataclass(frozen=True, slots=True)
class BotContent:
    """Everything one bot says and understands: the unit a designer edits and Kefu stores."""

    nlu: NluData = field(default_factory=NluData)
    entities: tuple[EntityType, ...] = ()
    responses: tuple[Response, ...] = ()

    def __post_init__(self) -> None:
        for kind, names in (
            ("intent", [i.name for i in self.nlu.intents]),
            ("entity", [e.name for e in self.entities]),
            ("response", [r.name for r in self.responses]),
            ("synonym", [s.value for s in self.nlu.synonyms]),
            ("regex", [r.name for r in self.nlu.regex_features]),
            ("lookup table", [t.name for t in self.nlu.lookup_tables]),
        ):
            duplicates = sorted({n for n in names if names.count(n) > 1})
            if duplicates:
                raise ContentError(f"{kind} names must be unique, repeated: {', '.join(duplicates)}")

    @property
    def intents(self) -> tuple[Intent, ...]:
        """The bot's intents."""
        return self.nlu.intents

    def response(self, name: str) -> Response | None:
        """The response called `name`, if there is one."""
        return next((r for r in self.responses if r.name == name), None)


KEFU_FORMAT = "kefu-bot"
KEFU_FORMAT_VERSION = 1


def content_to_json(content: BotContent) -> dict[str, Any]:
    """Kefu's own versioned JSON form of a bot's content; defaults are left out to keep it short."""
    data: dict[str, Any] = {"format": KEFU_FORMAT, "version": KEFU_FORMAT_VERSION}
    data["intents"] = [_intent_json(intent) for intent in content.nlu.intents]
    data["entities"] = [
        _compact({"name": e.name, "roles": list(e.roles), "groups": list(e.groups)}) for e in content.entities
    ]
    data["synonyms"] = [{"value": s.value, "examples": list(s.examples)} for s in content.nlu.synonyms]
    data["regex_features"] = [{"name": r.name, "patterns": list(r.patterns)} for r in content.nlu.regex_features]
    data["lookup_tables"] = [{"name": t.name, "elements": list(t.elements)} for t in content.nlu.lookup_tables]
    data["responses"] = [
        {"name": r.name, "variations": [_variation_json(v) for v in r.variations]} for r in content.responses
    ]
    return data


def content_from_json(data: Any) -> BotContent:
    """Read Kefu's JSON form back; anything off-shape raises ContentError naming where ($.intents[2].name)."""
    top = _object(data, "$", {"format", "version", "intents", "entities", "synonyms", "regex_features",
                             "lookup_tables", "responses"}, {"format", "version"})
    if top["format"] != KEFU_FORMAT:
        raise ContentError(f"$.format: expected {KEFU_FORMAT!r}, got {top['format']!r}")
    if top["version"] != KEFU_FORMAT_VERSION:
        raise ContentError(f"$.version: this Kefu reads version {KEFU_FORMAT_VERSION}, got {top['version']!r}")
    nlu = NluData(
        intents=tuple(_intent_from(v, p) for v, p in _items(top, "intents", "$")),
        synonyms=tuple(_named_strings(Synonym, v, p, "value", "examples") for v, p in _items(top, "synonyms", "$")),
        regex_features=tuple(
            _named_strings(RegexFeature, v, p, "name", "patterns") for v, p in _items(top, "regex_features", "$")
        ),
        lookup_tables=tuple(
            _named_strings(LookupTable, v, p, "name", "elements") for v, p in _items(top, "lookup_tables", "$")
        ),
    )
    entities = tuple(_entity_type_from(v, p) for v, p in _items(top, "entities", "$"))
    responses = tuple(_response_from(v, p) for v, p in _items(top, "responses", "$"))
    return _at("$", lambda: BotContent(nlu, entities, responses))


def intent_from_json(value: Any, path: str = "$") -> Intent:
    """One intent in Kefu's JSON form ({"name", "examples", "metadata"}); errors name the place."""
    return _intent_from(value, path)


def response_from_json(value: Any, path: str = "$") -> Response:
    """One response in Kefu's JSON form ({"name", "variations"}); errors name the place."""
    return _response_from(value, path)


def intent_to_json(intent: Intent) -> dict[str, Any]:
    """One intent in Kefu's JSON form."""
    return _intent_json(intent)


def dumps_content(content: BotContent) -> str:
    """Kefu's JSON form as text (UTF-8 friendly: Chinese stays readable)."""
    return json.dumps(content_to_json(content), ensure_ascii=False, indent=2) + "\n"


def loads_content(text: str) -> BotContent:
    """Parse Kefu's JSON form from text; broken JSON raises ContentError with line and column."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ContentError(f"not JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}") from exc
    return content_from_json(data)


def _compact(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v not in (None, [], {}, ())}


def _intent_json(intent: Intent) -> dict[str, Any]:
    examples = []
    for example in intent.examples:
        spans = [
            _compact({"start": s.start, "end": s.end, "entity": s.entity, "value": s.value, "role": s.role,
                      "group": s.group})
            for s in example.entities
        ]
        item: dict[str, Any] = {"text": example.text}
        if spans:
            item["entities"] = spans
        if example.metadata is not None:
            item["metadata"] = example.metadata
        examples.append(item)
    data: dict[str, Any] = {"name": intent.name, "examples": examples}
    if intent.metadata is not None:
        data["metadata"] = intent.metadata
    return data


def _variation_json(variation: ResponseVariation) -> dict[str, Any]:
    data = _compact({
        "text": variation.text,
        "buttons": [{"title": b.title, "payload": b.payload} for b in variation.buttons],
        "image": variation.image,
        "channel": variation.channel,
        "conditions": list(variation.conditions),
        "extra": dict(variation.extra),
    })
    if variation.custom is not None:
        # an empty custom payload is still a payload, so it is written even when {}
        data["custom"] = variation.custom
    return data


def _intent_from(value: Any, path: str) -> Intent:
    data = _object(value, path, {"name", "examples", "metadata"}, {"name"})
    examples = tuple(_example_from(item, item_path) for item, item_path in _items(data, "examples", path))
    return _at(path, lambda: Intent(_string(data, "name", path), examples, data.get("metadata")))


def _example_from(value: Any, path: str) -> Example:
    data = _object(value, path, {"text", "entities", "metadata"}, {"text"})
    spans = tuple(_span_from(item, item_path) for item, item_path in _items(data, "entities", path))
    return _at(path, lambda: Example(_string(data, "text", path), spans, data.get("metadata")))


def _span_from(value: Any, path: str) -> EntitySpan:
    data = _object(value, path, {"start", "end", "entity", "value", "role", "group"}, {"start", "end", "entity"})
    for key in ("start", "end"):
        if isinstance(data[key], bool) or not isinstance(data[key], int):
            raise ContentError(f"{path}.{key}: expected an integer, got {data[key]!r}")
    return EntitySpan(
        data["start"],
        data["end"],
        _string(data, "entity", path),
        _string(data, "value", path, optional=True),
        _string(data, "role", path, optional=True),
        _string(data, "group", path, optional=True),
    )


def _named_strings(cls: Any, value: Any, path: str, key: str, values: str) -> Any:
    data = _object(value, path, {key, values}, {key, values})
    return _at(path, lambda: cls(_string(data, key, path), _strings(data, values, path)))


def _entity_type_from(value: Any, path: str) -> EntityType:
    data = _object(value, path, {"name", "roles", "groups"}, {"name"})
    return _at(path, lambda: EntityType(
        _string(data, "name", path), _strings(data, "roles", path, optional=True),
        _strings(data, "groups", path, optional=True),
    ))


def _response_from(value: Any, path: str) -> Response:
    data = _object(value, path, {"name", "variations"}, {"name", "variations"})
    variations = tuple(_variation_from(item, item_path) for item, item_path in _items(data, "variations", path))
    return _at(path, lambda: Response(_string(data, "name", path), variations))


def _variation_from(value: Any, path: str) -> ResponseVariation:
    data = _object(value, path, {"text", "buttons", "image", "custom", "channel", "conditions", "extra"})
    buttons = []
    for item, item_path in _items(data, "buttons", path):
        button = _object(item, item_path, {"title", "payload"}, {"title", "payload"})
        buttons.append(Button(_string(button, "title", item_path), _string(button, "payload", item_path)))
    conditions = []
    for item, item_path in _items(data, "conditions", path):
        if not isinstance(item, dict):
            raise ContentError(f"{item_path}: expected an object, got {type(item).__name__}")
        conditions.append(item)
    extra = data.get("extra", {})
    if not isinstance(extra, dict):
        raise ContentError(f"{path}.extra: expected an object, got {extra!r}")
    return _at(path, lambda: ResponseVariation(
        text=_string(data, "text", path, optional=True),
        buttons=tuple(buttons),
        image=_string(data, "image", path, optional=True),
        custom=data.get("custom"),
        channel=_string(data, "channel", path, optional=True),
        conditions=tuple(conditions),
        extra=extra,
    ))


def _at(path: str, build: Any) -> Any:
    # the model's own checks do not know where they are; say it for them
    try:
        return build()
    except ContentError as exc:
        if str(exc).startswith("$"):
            raise
        raise ContentError(f"{path}: {exc}") from exc


def _object(
    value: Any, path: str, allowed: set[str], required: frozenset[str] | set[str] = frozenset()
) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ContentError(f"{path}: expected an object, got {type(value).__name__}")
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise ContentError(f"{path}: unknown key(s) {', '.join(map(repr, unknown))}")
    missing = sorted(required - set(value))
    if missing:
        raise ContentError(f"{path}: missing key(s) {', '.join(map(repr, missing))}")
    return value


def _items(data: dict[str, Any], key: str, path: str) -> list[tuple[Any, str]]:
    values = data.get(key, [])
    if not isinstance(values, list):
        raise ContentError(f"{path}.{key}: expected a list, got {type(values).__name__}")
    return [(value, f"{path}.{key}[{index}]") for index, value in enumerate(values)]


def _string(data: dict[str, Any], key: str, path: str, optional: bool = False) -> Any:
    value = data.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise ContentError(f"{path}.{key}: expected a string, got {value!r}")
    return value


def _strings(data: dict[str, Any], key: str, path: str, optional: bool = False) -> tuple[str, ...]:
    values = data.get(key)
    if values is None and optional:
        return ()
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ContentError(f"{path}.{key}: expected a list of strings, got {values!r}")
    return tuple(values)
