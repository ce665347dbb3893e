"""Rasa's open formats: nlu.yml and domain.yml (3.x), and the legacy `rasa_nlu_data` JSON, to and from Kefu's model."""
from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bots.content import (
    BotContent,
    ContentError,
    EntitySpan,
    EntityType,
    Example,
    Intent,
    LookupTable,
    NluData,
    RegexFeature,
    Response,
    ResponseVariation,
    Synonym,
)
from channels.base import Button

__all__ = [
    "Domain",
    "NluData",
    "RasaFormatError",
    "from_bot_content",
    "parse_example",
    "read_domain",
    "read_domain_text",
    "read_nlu_file",
    "read_nlu_text",
    "read_rasa_json",
    "read_rasa_json_text",
    "render_example",
    "to_bot_content",
    "write_domain",
    "write_nlu",
]

TRAINING_DATA_VERSION = "3.1"
# Rasa strips exactly these around each example, so tabs at either end survive
_STRIP = "\n\r "
_NLU_KEYS = {
    "intent": {"intent", "examples", "metadata"},
    "synonym": {"synonym", "examples"},
    "regex": {"regex", "examples"},
    "lookup": {"lookup", "examples"},
}
# keys Rasa's response schema accepts besides the ones Kefu models directly; kept as written
_VARIATION_EXTRA_KEYS = ("id", "metadata", "button_type", "quick_replies", "attachment", "elements")
_VARIATION_KEYS = {"text", "buttons", "image", "custom", "channel", "condition", *_VARIATION_EXTRA_KEYS}

# `[text](entity)`, `[text](entity:value)`, `[text]{"entity": ...}` and `[text][{...}, {...}]`,
# matched exactly as Rasa 3.x matches them so both read a file the same way
_MARKUP = re.compile(
    r"\[(?P<text>[^\]]+?)\]"
    r"(?:\((?P<entity>[^:)]+?)(?::(?P<value>[^)]+))?\)"
    r"|\{(?P<dict>[^}]+?)\}"
    r"|\[(?P<dicts>.*?)\])"
)
_SHORT_ENTITY = re.compile(r"[^:)]+")
_ONE_ENTITY_DICT = re.compile(r"\{[^}]+?\}")
_ENTITY_DICT_KEYS = ("entity", "value", "role", "group")


class RasaFormatError(ValueError):
    """Rasa data Kefu cannot read or write, with where (file, line) and why."""

    def __init__(self, reason: str, source: str | None = None, line: int | None = None) -> None:
        self.reason = reason
        self.source = source
        self.line = line
        where = source or "<text>"
        if line is not None:
            where = f"{where}, line {line}"
        super().__init__(f"{where}: {reason}")


@dataclass(frozen=True, slots=True)
class Domain:
    """The parts of a domain.yml Kefu models; everything else (slots, forms, ...) rides along in `extra`."""

    intents: tuple[str, ...] = ()
    entities: tuple[EntityType, ...] = ()
    responses: tuple[Response, ...] = ()
    intent_properties: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    entity_properties: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)


# --- YAML with line numbers, read the way YAML 1.2 (Rasa's ruamel) reads it -------------------------


class _Map(dict):  # type: ignore[type-arg]
    line: int | None = None
    value_lines: dict[str, int] = {}


class _Seq(list):  # type: ignore[type-arg]
    line: int | None = None


class _Str(str):
    line: int | None = None
    block: bool = False


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans, dates left as text, duplicate keys refused, lines remembered."""


_BOOL_TAG = "tag:yaml.org,2002:bool"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
# YAML 1.1 reads `yes`/`no`/`on`/`off` as booleans and dates as datetimes; Rasa (YAML 1.2) reads text
_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in (_BOOL_TAG, _TIMESTAMP_TAG)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(_BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> Iterator[_Map]:
    data = _Map()
    data.line = node.start_mark.line + 1
    # numbers and nulls cannot carry a line themselves, so the mapping remembers where each value was
    data.value_lines = {}
    yield data
    for key_node, value_node in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
            if key_node.value in data.value_lines:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key_node.value!r}", key_node.start_mark
                )
            data.value_lines[key_node.value] = value_node.start_mark.line + 1
    data.update(loader.construct_mapping(node))


def _construct_seq(loader: _Loader, node: yaml.SequenceNode) -> Iterator[_Seq]:
    data = _Seq()
    data.line = node.start_mark.line + 1
    yield data
    data.extend(loader.construct_sequence(node))


def _construct_str(loader: _Loader, node: yaml.ScalarNode) -> _Str:
    data = _Str(loader.construct_scalar(node))
    data.line = node.start_mark.line + 1
    data.block = node.style in ("|", ">")
    return data


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)
_Loader.add_constructor("tag:yaml.org,2002:str", _construct_str)


class _Literal(str):
    """Text written as a `|` block."""


class _Quoted(str):
    """Text written in double quotes."""


class _Dumper(yaml.SafeDumper):
    """SafeDumper that writes example blocks as `|` and never invents anchors."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


# PyYAML writes these raw inside single quotes when allow_unicode is on, and reads them back as spaces
_UNSAFE_BREAKS = re.compile("[\x85\u2028\u2029]")


def _represent_str(dumper: _Dumper, data: str) -> yaml.ScalarNode:
    style = {_Literal: "|", _Quoted: '"'}.get(type(data))
    if _UNSAFE_BREAKS.search(data):
        style = '"'
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(data), style=style)


for _kind in (str, _Literal, _Quoted):
    _Dumper.add_representer(_kind, _represent_str)
_Dumper.add_multi_representer(str, _represent_str)


def _dump(document: Mapping[str, Any]) -> str:
    return yaml.dump(
        document, Dumper=_Dumper, allow_unicode=True, sort_keys=False, default_flow_style=False, width=1 << 16
    )


def _load(text: str, source: str) -> Any:
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        reason = " ".join(part for part in (exc.context, exc.problem) if part)
        raise RasaFormatError(f"not valid YAML: {reason}", source, mark.line + 1 if mark else None) from exc
    except yaml.YAMLError as exc:
        raise RasaFormatError(f"not valid YAML: {exc}", source) from exc


def _plain(value: Any) -> Any:
    """Loaded YAML with the line-number subclasses taken off, for data kept as-is."""
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


def _line(value: Any, fallback: Any = None) -> int | None:
    return getattr(value, "line", None) or getattr(fallback, "line", None)


def _value_line(mapping: Any, key: str) -> int | None:
    """The line of `mapping[key]`, or of the mapping when that is unknown."""
    return getattr(mapping, "value_lines", {}).get(key) or _line(mapping)


def _read_text(path: str | os.PathLike[str]) -> str:
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RasaFormatError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", os.fspath(path)) from exc


def _check_version(top: Mapping[str, Any], source: str) -> None:
    version = top.get("version")
    if version is None:
        return
    if isinstance(version, bool) or not isinstance(version, (str, int, float)):
        raise RasaFormatError(f"'version' must be a string like \"3.1\", got {version!r}", source,
                              _value_line(top, "version"))
    if str(version).split(".")[0] not in {"2", "3"}:
        raise RasaFormatError(
            f"training data version {str(version)!r} is not supported (Kefu reads 2.x and 3.x)", source,
            _value_line(top, "version"),
        )


def _name(value: Any, what: str, source: str, line: int | None) -> str:
    """A name or other short text: YAML may have read `404` or `1.5` as a number, which still means text."""
    if isinstance(value, str) and value.strip():
        return str(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise RasaFormatError(f"{what} must be a non-empty text, got {value!r}", source, _line(value) or line)


def _top_mapping(document: Any, source: str, kind: str) -> Mapping[str, Any]:
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise RasaFormatError(f"a {kind} file must be a YAML mapping at the top level", source, _line(document))
    _check_version(document, source)
    return document


# --- entity markup ----------------------------------------------------------------------------------


def parse_example(markup: str, metadata: Any = None) -> Example:
    """An annotated example (`I want [two](amount) tickets`) as plain text with entity spans."""
    pieces: list[str] = []
    spans: list[EntitySpan] = []
    length = 0
    cursor = 0
    for match in _MARKUP.finditer(markup):
        before = markup[cursor : match.start()]
        surface = match["text"]
        start = length + len(before)
        end = start + len(surface)
        if match["entity"] is not None:
            value = match["value"] if match["value"] is not None else surface
            spans.append(EntitySpan(start, end, match["entity"], value))
        elif match["dict"] is not None:
            spans.append(_span_from_dict(_json(f"{{{match['dict']}}}", match[0]), start, end, surface, match[0]))
        else:
            # Rasa cuts the list into `{...}` pieces, so a "}" inside a value ends it there too
            listed = match["dicts"]
            if _ONE_ENTITY_DICT.sub("", listed).strip(" ,"):
                raise ValueError(f"entity annotation {match[0]!r} must be a list of {{\"entity\": ...}} objects")
            for piece in _ONE_ENTITY_DICT.findall(listed):
                spans.append(_span_from_dict(_json(piece, match[0]), start, end, surface, match[0]))
        pieces += [before, surface]
        length = end
        cursor = match.end()
    pieces.append(markup[cursor:])
    try:
        return Example("".join(pieces), tuple(spans), metadata)
    except ContentError as exc:
        raise ValueError(str(exc)) from exc


def _json(text: str, markup: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"entity annotation {markup!r} is not valid JSON ({exc.msg})") from exc


def _span_from_dict(annotation: Any, start: int, end: int, surface: str, markup: str) -> EntitySpan:
    if not isinstance(annotation, dict):
        raise ValueError(f"entity annotation {markup!r} must be a JSON object like {{\"entity\": \"city\"}}")
    unknown = sorted(set(annotation) - set(_ENTITY_DICT_KEYS))
    if unknown:
        raise ValueError(f"entity annotation {markup!r} has unknown key(s) {', '.join(unknown)}")
    if "entity" not in annotation:
        raise ValueError(f"entity annotation {markup!r} has no \"entity\"")
    for key in _ENTITY_DICT_KEYS:
        if key in annotation and not isinstance(annotation[key], str):
            raise ValueError(f"entity annotation {markup!r}: \"{key}\" must be a string")
    return EntitySpan(
        start, end, annotation["entity"], annotation.get("value", surface), annotation.get("role"),
        annotation.get("group"),
    )


def render_example(example: Example) -> str:
    """Rasa markup for an example; raises ValueError when Rasa would read the markup differently."""
    text = example.text
    groups: list[list[EntitySpan]] = []
    for span in example.entities:
        if groups and (groups[-1][0].start, groups[-1][0].end) == (span.start, span.end):
            groups[-1].append(span)
            continue
        if groups and span.start < groups[-1][0].end:
            raise ValueError(f"overlapping entities cannot be written as Rasa markup: {text!r}")
        groups.append([span])
    out: list[str] = []
    cursor = 0
    for group in groups:
        start, end = group[0].start, group[0].end
        surface = text[start:end]
        out.append(text[cursor:start])
        only = group[0]
        if len(group) == 1 and only.role is None and only.group is None and only.value == surface \
                and _SHORT_ENTITY.fullmatch(only.entity):
            out.append(f"[{surface}]({only.entity})")
        elif len(group) == 1:
            out.append(f"[{surface}]{_entity_json(only, surface)}")
        else:
            out.append(f"[{surface}][{', '.join(_entity_json(span, surface) for span in group)}]")
        cursor = end
    out.append(text[cursor:])
    markup = "".join(out).strip(_STRIP)
    # the markup language has no escapes: the only proof that it says what we mean is reading it back
    try:
        again = parse_example(markup)
    except ValueError:
        again = None
    if again is None or again.text != text or again.entities != example.entities:
        raise ValueError(f"Rasa markup cannot express this example exactly: {text!r}")
    return markup


def _entity_json(span: EntitySpan, surface: str) -> str:
    data = {"entity": span.entity}
    if span.value != surface:
        data["value"] = span.value  # type: ignore[assignment]
    if span.role is not None:
        data["role"] = span.role
    if span.group is not None:
        data["group"] = span.group
    return json.dumps(data, ensure_ascii=False)


# --- nlu.yml ----------------------------------------------------------------------------------------


def read_nlu_file(path: str | os.PathLike[str]) -> NluData:
    """NLU data from a Rasa file: nlu.yml (3.x YAML) or, for a .json file, the legacy rasa_nlu_data JSON."""
    if Path(path).suffix.lower() == ".json":
        return read_rasa_json(path)
    return read_nlu_text(_read_text(path), os.fspath(path))


def read_nlu_text(text: str, source: str = "<text>") -> NluData:
    """NLU data from the text of a Rasa 3.x nlu.yml; stories, rules and other keys are ignored."""
    top = _top_mapping(_load(text, source), source, "training data")
    items = top.get("nlu")
    if items is None:
        return NluData()
    if not isinstance(items, list):
        raise RasaFormatError("'nlu' must be a list of intent, synonym, regex and lookup items", source,
                              _value_line(top, "nlu"))
    intents: dict[str, Intent] = {}
    lists: dict[str, dict[str, list[str]]] = {"synonym": {}, "regex": {}, "lookup": {}}
    for item in items:
        if not isinstance(item, dict):
            raise RasaFormatError(
                f"items under 'nlu' must be mappings with an intent, synonym, regex or lookup key, got {item!r}",
                source, _line(item, items),
            )
        kinds = [kind for kind in _NLU_KEYS if kind in item]
        if len(kinds) != 1:
            found = ", ".join(map(repr, item)) or "nothing"
            raise RasaFormatError(
                f"an nlu item needs exactly one of 'intent', 'synonym', 'regex' or 'lookup', found {found}",
                source, _line(item),
            )
        kind = kinds[0]
        name = _name(item[kind], kind, source, _value_line(item, kind))
        unknown = sorted(set(item) - _NLU_KEYS[kind])
        if unknown:
            raise RasaFormatError(f"{kind} {name!r} has unknown key(s) {', '.join(map(repr, unknown))}", source,
                                  _line(item))
        if kind == "intent":
            intent = Intent(name, tuple(_intent_examples(item.get("examples"), name, source, item)),
                            _plain(item.get("metadata")))
            intents[name] = _join_intent(intents.get(name), intent, source, item)
        else:
            lines = [text for _, text in _block_items(item.get("examples"), f"{kind} {name!r}", source, item)]
            lists[kind].setdefault(name, []).extend(lines)
    return NluData(
        intents=tuple(intents.values()),
        synonyms=tuple(Synonym(name, tuple(values)) for name, values in lists["synonym"].items()),
        regex_features=tuple(RegexFeature(name, tuple(values)) for name, values in lists["regex"].items()),
        lookup_tables=tuple(LookupTable(name, tuple(values)) for name, values in lists["lookup"].items()),
    )


def _join_intent(known: Intent | None, intent: Intent, source: str, where: Any) -> Intent:
    if known is None:
        return intent
    if known.metadata is not None and intent.metadata is not None and known.metadata != intent.metadata:
        raise RasaFormatError(f"intent {intent.name!r} appears again with different metadata", source, _line(where))
    metadata = known.metadata if known.metadata is not None else intent.metadata
    return Intent(intent.name, known.examples + intent.examples, metadata)


def _block_items(value: Any, what: str, source: str, where: Any) -> Iterator[tuple[int | None, str]]:
    """(line, text) for each `- text` line of an examples block."""
    if value is None:
        return
    if not isinstance(value, str):
        raise RasaFormatError(f"examples of {what} must be a block of '- ' lines (examples: |)", source,
                              _value_line(where, "examples"))
    first = value.line + (1 if value.block else 0) if isinstance(value, _Str) and value.line else None
    for offset, raw in enumerate(value.splitlines()):
        line = first + offset if first is not None else None
        if not raw.strip():
            continue
        if not raw.startswith("-"):
            raise RasaFormatError(f"in the examples of {what}, each line must start with '- ', got {raw!r}", source,
                                  line)
        text = raw[1:].strip(_STRIP)
        if text:
            yield line, text


def _intent_examples(value: Any, intent: str, source: str, where: Any) -> Iterator[Example]:
    if value is None or isinstance(value, str):
        for line, markup in _block_items(value, f"intent {intent!r}", source, where):
            yield _example(markup, None, intent, source, line)
        return
    if not isinstance(value, list):
        raise RasaFormatError(
            f"examples of intent {intent!r} must be a block of '- ' lines or a list of 'text' items", source,
            _value_line(where, "examples"),
        )
    for entry in value:
        if not isinstance(entry, dict) or not isinstance(entry.get("text"), str):
            raise RasaFormatError(f"each example of intent {intent!r} needs a 'text'", source, _line(entry, value))
        unknown = sorted(set(entry) - {"text", "metadata"})
        if unknown:
            raise RasaFormatError(f"an example of intent {intent!r} has unknown key(s) {', '.join(unknown)}", source,
                                  _line(entry))
        markup = entry["text"].strip(_STRIP)
        if not markup:
            raise RasaFormatError(f"an example of intent {intent!r} has an empty text", source, _line(entry))
        yield _example(markup, _plain(entry.get("metadata")), intent, source, _line(entry["text"], entry))


def _example(markup: str, metadata: Any, intent: str, source: str, line: int | None) -> Example:
    try:
        return parse_example(str(markup), metadata)
    except ValueError as exc:
        raise RasaFormatError(f"intent {intent!r}: {exc}", source, line) from exc


def write_nlu(nlu: NluData) -> str:
    """Rasa 3.x nlu.yml text for NLU data; raises RasaFormatError for what the format cannot hold."""
    items: list[dict[str, Any]] = []
    for intent in nlu.intents:
        items.append(_intent_item(intent))
    for kind, entries in (
        ("synonym", [(s.value, s.examples) for s in nlu.synonyms]),
        ("regex", [(r.name, r.patterns) for r in nlu.regex_features]),
        ("lookup", [(t.name, t.elements) for t in nlu.lookup_tables]),
    ):
        for name, values in entries:
            for value in values:
                if not _fits_block(value):
                    raise RasaFormatError(f"{kind} {name!r}: {value!r} cannot be written as a '- ' line")
            items.append({kind: name, "examples": _Literal("".join(f"- {value}\n" for value in values))})
    return _dump({"version": _Quoted(TRAINING_DATA_VERSION), "nlu": items})


def _fits_block(text: str) -> bool:
    # one '- ' line that Rasa reads back unchanged
    return bool(text) and text.strip(_STRIP) == text and text.splitlines() == [text]


def _intent_item(intent: Intent) -> dict[str, Any]:
    item: dict[str, Any] = {"intent": intent.name}
    if intent.metadata is not None:
        item["metadata"] = intent.metadata
    markups = []
    for example in intent.examples:
        try:
            markups.append(render_example(example))
        except ValueError as exc:
            raise RasaFormatError(f"intent {intent.name!r}: {exc}") from exc
    if all(_fits_block(m) for m in markups) and all(e.metadata is None for e in intent.examples):
        item["examples"] = _Literal("".join(f"- {markup}\n" for markup in markups))
        return item
    # metadata or a line break in the text needs the list form
    listed = []
    for markup, example in zip(markups, intent.examples, strict=True):
        entry: dict[str, Any] = {"text": _Literal(markup) if "\n" in markup else markup}
        if example.metadata is not None:
            entry["metadata"] = example.metadata
        listed.append(entry)
    item["examples"] = listed
    return item


# --- legacy rasa_nlu_data JSON ----------------------------------------------------------------------


def read_rasa_json(path: str | os.PathLike[str]) -> NluData:
    """NLU data from a legacy Rasa JSON file; lookup tables given as file names are read next to it."""
    return read_rasa_json_text(_read_text(path), os.fspath(path), Path(path).parent)


def read_rasa_json_text(text: str, source: str = "<text>", base_dir: Path | None = None) -> NluData:
    """NLU data from legacy `{"rasa_nlu_data": {"common_examples": [...], ...}}` JSON text."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RasaFormatError(f"not valid JSON: {exc.msg} (column {exc.colno})", source, exc.lineno) from exc
    if not isinstance(document, dict) or not isinstance(document.get("rasa_nlu_data"), dict):
        raise RasaFormatError("expected an object with a 'rasa_nlu_data' object inside", source)
    data = document["rasa_nlu_data"]
    examples: dict[str, list[Example]] = {}
    for key in ("common_examples", "intent_examples", "entity_examples"):
        for path, entry in _json_items(data, key, source):
            intent, example = _json_example(entry, path, source)
            examples.setdefault(intent, []).append(example)
    synonyms: dict[str, list[str]] = {}
    for path, entry in _json_items(data, "entity_synonyms", source):
        value = _json_str(entry, "value", path, source)
        names = entry.get("synonyms")
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise RasaFormatError(f"{path}.synonyms must be a list of strings", source)
        synonyms.setdefault(value, []).extend(names)
    regexes: dict[str, list[str]] = {}
    for path, entry in _json_items(data, "regex_features", source):
        regexes.setdefault(_json_str(entry, "name", path, source), []).append(_json_str(entry, "pattern", path, source))
    lookups: dict[str, list[str]] = {}
    for path, entry in _json_items(data, "lookup_tables", source):
        name = _json_str(entry, "name", path, source)
        lookups.setdefault(name, []).extend(_lookup_elements(entry.get("elements"), path, source, base_dir))
    return NluData(
        intents=tuple(Intent(name, tuple(items)) for name, items in examples.items()),
        synonyms=tuple(Synonym(value, tuple(names)) for value, names in synonyms.items()),
        regex_features=tuple(RegexFeature(name, tuple(patterns)) for name, patterns in regexes.items()),
        lookup_tables=tuple(LookupTable(name, tuple(elements)) for name, elements in lookups.items()),
    )


def _json_items(data: Mapping[str, Any], key: str, source: str) -> Iterator[tuple[str, dict[str, Any]]]:
    values = data.get(key)
    if values is None:
        return
    if not isinstance(values, list):
        raise RasaFormatError(f"rasa_nlu_data.{key} must be a list", source)
    for index, entry in enumerate(values):
        path = f"rasa_nlu_data.{key}[{index}]"
        if not isinstance(entry, dict):
            raise RasaFormatError(f"{path} must be an object", source)
        yield path, entry


def _json_str(entry: Mapping[str, Any], key: str, path: str, source: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value:
        raise RasaFormatError(f"{path}.{key} must be a non-empty string, got {value!r}", source)
    return value


def _json_example(entry: Mapping[str, Any], path: str, source: str) -> tuple[str, Example]:
    intent = entry.get("intent")
    if not isinstance(intent, str) or not intent:
        raise RasaFormatError(f"{path} has no intent (Kefu keeps every example under an intent)", source)
    text = entry.get("text")
    if not isinstance(text, str):
        raise RasaFormatError(f"{path}.text must be a string, got {text!r}", source)
    spans = []
    entities = entry.get("entities") or []
    if not isinstance(entities, list):
        raise RasaFormatError(f"{path}.entities must be a list", source)
    for index, entity in enumerate(entities):
        where = f"{path}.entities[{index}]"
        if not isinstance(entity, dict):
            raise RasaFormatError(f"{where} must be an object", source)
        start, end = entity.get("start"), entity.get("end")
        if isinstance(start, bool) or isinstance(end, bool) or not isinstance(start, int) or not isinstance(end, int):
            raise RasaFormatError(f"{where} needs integer 'start' and 'end'", source)
        value: Any = entity.get("value")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)  # older extractors stored numbers; Kefu's values are text
        spans.append(EntitySpan(start, end, _json_str(entity, "entity", where, source), value,
                                entity.get("role"), entity.get("group")))
    try:
        return intent, Example(text, tuple(spans), entry.get("metadata"))
    except ContentError as exc:
        raise RasaFormatError(f"{path}: {exc}", source) from exc


def _lookup_elements(elements: Any, path: str, source: str, base_dir: Path | None) -> list[str]:
    if isinstance(elements, list) and all(isinstance(e, str) for e in elements):
        return list(elements)
    if isinstance(elements, str):
        if base_dir is None:
            raise RasaFormatError(f"{path}.elements names a file ({elements!r}) but no folder to look in", source)
        try:
            lines = (base_dir / elements).read_text(encoding="utf-8-sig").splitlines()
        except OSError as exc:
            raise RasaFormatError(f"{path}.elements: cannot read {elements!r}: {exc.strerror}", source) from exc
        return [line.strip() for line in lines if line.strip()]
    raise RasaFormatError(f"{path}.elements must be a list of strings or a file name", source)


# --- domain.yml -------------------------------------------------------------------------------------


def read_domain(path: str | os.PathLike[str]) -> Domain:
    """The intents, entities and responses of a Rasa domain.yml (or responses.yml) file."""
    return read_domain_text(_read_text(path), os.fspath(path))


def read_domain_text(text: str, source: str = "<text>") -> Domain:
    """The intents, entities and responses of domain.yml text; other top-level keys are kept in `extra`."""
    top = _top_mapping(_load(text, source), source, "domain")
    intents, properties = _named_list(top.get("intents"), "intents", source, top)
    intent_properties = {name: _plain(props) for name, props in properties.items()}
    entities = []
    entity_properties: dict[str, Mapping[str, Any]] = {}
    names, properties = _named_list(top.get("entities"), "entities", source, top)
    for name in names:
        props = properties.get(name, _Map())
        roles = _text_list(props, "roles", f"roles of entity {name!r}", source)
        groups = _text_list(props, "groups", f"groups of entity {name!r}", source)
        entities.append(EntityType(name, roles, groups))
        rest = {str(key): _plain(value) for key, value in props.items() if key not in ("roles", "groups")}
        if rest:
            entity_properties[name] = rest
    responses = _responses(top.get("responses"), source, top)
    extra = {str(k): _plain(v) for k, v in top.items() if k not in ("version", "intents", "entities", "responses")}
    return Domain(tuple(intents), tuple(entities), responses, intent_properties, entity_properties, extra)


def _named_list(
    value: Any, key: str, source: str, where: Any
) -> tuple[list[str], dict[str, Mapping[str, Any]]]:
    """Names from a list like `- greet` / `- greet: {use_entities: []}`, with each one's properties."""
    if value is None:
        return [], {}
    if not isinstance(value, list):
        raise RasaFormatError(f"'{key}' must be a list", source, _value_line(where, key))
    names: list[str] = []
    properties: dict[str, Mapping[str, Any]] = {}
    for item in value:
        if isinstance(item, dict):
            if len(item) != 1:
                raise RasaFormatError(f"an item of '{key}' must be a name or a single 'name: {{...}}' mapping",
                                      source, _line(item, value))
            ((raw_name, props),) = item.items()
            name = _name(raw_name, f"a name in '{key}'", source, _line(item))
            if props is not None and not isinstance(props, dict):
                raise RasaFormatError(f"the properties of {name!r} in '{key}' must be a mapping", source, _line(item))
            if props:
                properties[name] = props
        else:
            name = _name(item, f"a name in '{key}'", source, _line(value))
        if name not in names:
            names.append(name)
    return names, properties


def _text_list(mapping: Mapping[str, Any], key: str, what: str, source: str) -> tuple[str, ...]:
    value = mapping.get(key)
    if value is None:
        return ()
    if not isinstance(value, list):
        raise RasaFormatError(f"{what} must be a list", source, _value_line(mapping, key))
    return tuple(_name(item, what, source, _line(value)) for item in value)


def _responses(value: Any, source: str, where: Any) -> tuple[Response, ...]:
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise RasaFormatError("'responses' must map each response name to a list of variations", source,
                              _value_line(where, "responses"))
    responses = []
    for raw_name, variations in value.items():
        name = _name(raw_name, "a response name", source, _line(value))
        if not isinstance(variations, list) or not variations:
            raise RasaFormatError(f"response {name!r} must be a non-empty list of variations", source,
                                  _value_line(value, raw_name))
        responses.append(Response(name, tuple(_variation(v, name, source, variations) for v in variations)))
    return tuple(responses)


def _variation(value: Any, response: str, source: str, where: Any) -> ResponseVariation:
    line = _line(value, where)
    if not isinstance(value, dict):
        raise RasaFormatError(f"each variation of response {response!r} must be a mapping", source, line)
    unknown = sorted(set(value) - _VARIATION_KEYS)
    if unknown:
        raise RasaFormatError(
            f"response {response!r} has unsupported key(s) {', '.join(map(repr, unknown))}; "
            f"Kefu reads {', '.join(sorted(_VARIATION_KEYS))}", source, line,
        )

    def text(key: str) -> str | None:
        raw = value.get(key)
        if raw is None:
            return None
        if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
            raise RasaFormatError(f"'{key}' of response {response!r} must be text, got {raw!r}", source, line)
        return str(raw)

    if value.get("text") is None and not value.get("custom"):
        raise RasaFormatError(f"a variation of response {response!r} needs a 'text' or a 'custom' payload", source,
                              line)
    custom = value.get("custom")
    if custom is not None and not isinstance(custom, dict):
        raise RasaFormatError(f"'custom' of response {response!r} must be a mapping", source, line)
    conditions = value.get("condition") or []
    if not isinstance(conditions, list) or not all(isinstance(c, dict) for c in conditions):
        raise RasaFormatError(f"'condition' of response {response!r} must be a list of mappings", source, line)
    return ResponseVariation(
        text=text("text"),
        buttons=_buttons(value.get("buttons"), response, source, line),
        image=text("image"),
        custom=_plain(custom),
        channel=text("channel"),
        conditions=tuple(_plain(c) for c in conditions),
        extra={key: _plain(value[key]) for key in _VARIATION_EXTRA_KEYS if key in value},
    )


def _buttons(value: Any, response: str, source: str, line: int | None) -> tuple[Button, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise RasaFormatError(f"'buttons' of response {response!r} must be a list", source, line)
    buttons = []
    for item in value:
        where = _line(item) or line
        if not isinstance(item, dict) or set(item) != {"title", "payload"}:
            raise RasaFormatError(
                f"each button of response {response!r} needs exactly 'title' and 'payload', got {_plain(item)!r}",
                source, where,
            )
        title = _name(item["title"], f"a button title in response {response!r}", source, _value_line(item, "title"))
        payload = item["payload"]
        if isinstance(payload, bool) or not isinstance(payload, (str, int, float)):
            raise RasaFormatError(f"a button payload in response {response!r} must be text", source, where)
        buttons.append(Button(title, str(payload)))
    return tuple(buttons)


def write_domain(domain: Domain) -> str:
    """domain.yml text (version 3.1) for a Domain; `extra` keys are written back as they were read."""
    document: dict[str, Any] = {"version": _Quoted(TRAINING_DATA_VERSION)}
    if domain.intents:
        document["intents"] = [
            {name: dict(domain.intent_properties[name])} if domain.intent_properties.get(name) else name
            for name in domain.intents
        ]
    if domain.entities:
        document["entities"] = [_entity_item(e, domain.entity_properties.get(e.name, {})) for e in domain.entities]
    if domain.responses:
        document["responses"] = {r.name: [_variation_item(v) for v in r.variations] for r in domain.responses}
    for key, value in domain.extra.items():
        document.setdefault(key, value)
    return _dump(document)


def _entity_item(entity: EntityType, properties: Mapping[str, Any]) -> Any:
    props: dict[str, Any] = {}
    if entity.roles:
        props["roles"] = list(entity.roles)
    if entity.groups:
        props["groups"] = list(entity.groups)
    props.update(properties)
    return {entity.name: props} if props else entity.name


def _variation_item(variation: ResponseVariation) -> dict[str, Any]:
    item: dict[str, Any] = {}
    if variation.text is not None:
        item["text"] = _Literal(variation.text) if "\n" in variation.text else variation.text
    if variation.image is not None:
        item["image"] = variation.image
    if variation.buttons:
        item["buttons"] = [{"title": b.title, "payload": b.payload} for b in variation.buttons]
    if variation.custom is not None:
        item["custom"] = dict(variation.custom)
    if variation.channel is not None:
        item["channel"] = variation.channel
    if variation.conditions:
        item["condition"] = [dict(c) for c in variation.conditions]
    item.update(variation.extra)
    return item


# --- Kefu's model -----------------------------------------------------------------------------------


def to_bot_content(nlu: NluData, domain: Domain | None = None) -> BotContent:
    """One bot's content from its Rasa NLU data and domain; domain intents without examples are kept."""
    domain = domain or Domain()
    known = {intent.name for intent in nlu.intents}
    extra_intents = tuple(Intent(name) for name in domain.intents if name not in known)
    entities = list(domain.entities)
    declared = {entity.name for entity in entities}
    for name in nlu.entity_names():
        if name not in declared:
            entities.append(EntityType(name))
            declared.add(name)
    return BotContent(
        nlu=NluData(nlu.intents + extra_intents, nlu.synonyms, nlu.regex_features, nlu.lookup_tables),
        entities=tuple(entities),
        responses=domain.responses,
    )


def from_bot_content(content: BotContent) -> tuple[NluData, Domain]:
    """Rasa NLU data and a domain holding a bot's content (the domain lists every intent and entity)."""
    domain = Domain(
        intents=tuple(intent.name for intent in content.intents),
        entities=content.entities,
        responses=content.responses,
    )
    return content.nlu, domain
