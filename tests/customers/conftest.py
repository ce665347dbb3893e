"""Customer-record tests: CSAT asks at once and sweeps often, so stories do not wait a minute."""
from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def prompt_csat(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ask for a rating right after resolution (the default waits KEFU_CSAT_DELAY_SECONDS=60)."""
    monkeypatch.setenv("KEFU_CSAT_DELAY_SECONDS", "0")
    monkeypatch.setenv("KEFU_CSAT_SWEEP_SECONDS", "0.2")
