"""Labelled messages the complaint detector learns from: the shipped seed corpus and agents' corrections."""
from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

CATEGORIES: tuple[str, ...] = (
    "delivery",
    "billing",
    "product_quality",
    "service_attitude",
    "refund",
    "technical",
    "other",
)
# How each category reads in reports: (English, Chinese).
CATEGORY_LABELS: dict[str, tuple[str, str]] = {
    "delivery": ("delivery", "物流配送"),
    "billing": ("billing", "账单计费"),
    "product_quality": ("product quality", "产品质量"),
    "service_attitude": ("service attitude", "服务态度"),
    "refund": ("refunds and returns", "退款退货"),
    "technical": ("technical problems", "技术故障"),
    "other": ("other", "其他"),
}
CHANNELS: tuple[str, ...] = ("webchat", "email", "sms", "whatsapp", "telegram")

_SEED_PACKAGE = "hub.analysis.data"
_ROUTINE_FILE = "complaint_seed_routine.txt"


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled message; `channel` is "" when unknown, `correction` marks an agent's label."""

    text: str
    is_complaint: bool
    category: str | None = None
    channel: str = ""
    correction: bool = False

    def __post_init__(self) -> None:
        if self.category is not None and self.category not in CATEGORIES:
            raise ValueError(f"unknown complaint category {self.category!r}; expected one of {CATEGORIES}")
        if self.category is not None and not self.is_complaint:
            raise ValueError("only complaints have a category")


def correction(text: str, is_complaint: bool, category: str | None = None, channel: str = "") -> Example:
    """An agent's verdict on a message, weighted above seed examples when training."""
    return Example(text, is_complaint, category if is_complaint else None, channel, correction=True)


def parse_seed_lines(lines: list[str], is_complaint: bool, category: str | None) -> list[Example]:
    """Examples from a seed file's lines: one message a line, `#` comments, `\\n` for line breaks."""
    out: list[Example] = []
    for line in lines:
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        out.append(Example(text.replace("\\n", "\n"), is_complaint, category))
    return out


def load_seed() -> list[Example]:
    """The seed corpus shipped in hub/analysis/data: one file per category, plus routine messages."""
    root = resources.files(_SEED_PACKAGE)
    examples: list[Example] = []
    for category in CATEGORIES:
        lines = (root / f"complaint_seed_{category}.txt").read_text(encoding="utf-8").splitlines()
        examples.extend(parse_seed_lines(lines, True, category))
    routine = (root / _ROUTINE_FILE).read_text(encoding="utf-8").splitlines()
    examples.extend(parse_seed_lines(routine, False, None))
    return examples
