"""Attachment bytes on disk, addressed by content hash; the database keeps only metadata."""
from __future__ import annotations

import asyncio
import hashlib
import re
from pathlib import Path
from typing import Any

from channels.base import Attachment

_SAFE_NAME = re.compile(r"[^\w.\- ]+", re.UNICODE)


def safe_filename(name: str) -> str:
    """A filename with path separators and odd characters removed."""
    cleaned = _SAFE_NAME.sub("_", Path(name).name).strip(" .")
    return cleaned[:200] or "attachment"


class AttachmentStore:
    """Content-addressed files under one folder; writes happen off the event loop."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, sha256: str) -> Path:
        """Where the bytes with this hash live."""
        if not re.fullmatch(r"[0-9a-f]{64}", sha256):
            raise ValueError("not a sha256 hex digest")
        return self.root / sha256[:2] / sha256

    async def store(self, attachment: Attachment) -> dict[str, Any]:
        """Save the bytes (if any) and return the metadata the message row keeps."""
        meta: dict[str, Any] = {
            "filename": safe_filename(attachment.filename),
            "content_type": attachment.content_type,
            "size": attachment.size,
        }
        if attachment.url:
            meta["source_url"] = attachment.url
        if attachment.data is not None:
            digest = hashlib.sha256(attachment.data).hexdigest()
            await asyncio.get_running_loop().run_in_executor(None, self._write, digest, attachment.data)
            meta["sha256"] = digest
            meta["size"] = len(attachment.data)
        return meta

    def _write(self, digest: str, data: bytes) -> None:
        path = self.path_for(digest)
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)

    async def load(self, sha256: str) -> bytes | None:
        """The bytes for a hash, or None."""
        path = self.path_for(sha256)
        if not path.exists():
            return None
        return await asyncio.get_running_loop().run_in_executor(None, path.read_bytes)
