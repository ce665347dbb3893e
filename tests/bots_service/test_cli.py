"""`kefu bot ...` in a terminal: train a folder, import Rasa files, list, activate, roll back, export."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

RASA = Path(__file__).resolve().parents[1] / "fixtures" / "rasa"


def kefu(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KEFU_DATA_DIR": str(tmp_path), "KEFU_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/k.db"}
    return subprocess.run([sys.executable, "-m", "hub.cli", "bot", *args], env=env, capture_output=True, text=True,
                          timeout=300)


def test_train_import_activate_roll_back_and_export(tmp_path: Path) -> None:
    trained = kefu(tmp_path, "train", str(RASA / "zh"), "--label", "zh shop", "--activate")
    assert trained.returncode == 0, trained.stderr
    assert "bot version 1 trained: mode=fast, examples=16" in trained.stdout
    assert "bot version 1 is active" in trained.stdout
    assert "% calibration" in trained.stderr  # progress, as it happens

    imported = kefu(tmp_path, "import-rasa", str(RASA / "en" / "nlu.yml"), str(RASA / "en" / "domain.yml"))
    assert imported.returncode == 0, imported.stderr
    assert kefu(tmp_path, "activate", "2").stdout.strip() == "bot version 2 is active (was 1)"
    listing = kefu(tmp_path, "versions").stdout.splitlines()
    assert listing[0].startswith("*    2  ready") and listing[1].startswith("     1  ready")
    assert kefu(tmp_path, "rollback").stdout.strip() == "rolled back: bot version 1 is active"

    exported = kefu(tmp_path, "export-rasa", "1", str(tmp_path / "out"))
    assert exported.returncode == 0 and "- intent: 退款" in (tmp_path / "out" / "nlu.yml").read_text(encoding="utf-8")

    missing = kefu(tmp_path, "activate", "99")
    assert missing.returncode == 1 and missing.stderr.strip() == "error: bot version 99 does not exist"
    broken = tmp_path / "broken.yml"
    broken.write_text('version: "3.1"\nnlu:\n- intent: x\n  exmples: |\n    - hi\n', encoding="utf-8")
    refused = kefu(tmp_path, "import-rasa", str(broken))
    assert refused.returncode == 1 and "broken.yml, line 3" in refused.stderr
