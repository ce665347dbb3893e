"""The complaint scoring child: reads requests on stdin, answers on stdout, until stdin closes.

Frames are a 4-byte big-endian length and a pickle. Requests: ("load", version, detector_pickle) keeps a
detector; ("score", version, [(text, channel, prior_contacts), ...]) scores with it. Replies are
("ok", value) (None for a score asked of a version it does not hold) or ("error", message). Only the hub
that started this process writes to it: the pickles come from that hub.
"""

from __future__ import annotations

import os
import pickle
import struct
import sys
import traceback
from typing import Any, BinaryIO

from hub.analysis.complaints import ComplaintDetector

HEADER = struct.Struct("!I")
NICENESS = 5  # below the hub, so the scheduler serves customers' messages first


def _read(stream: BinaryIO, size: int) -> bytes | None:
    data = stream.read(size)
    return data if data is not None and len(data) == size else None


def serve(requests: BinaryIO, replies: BinaryIO) -> None:
    """Answer requests until end of input."""
    held: tuple[int, ComplaintDetector] | None = None
    while True:
        header = _read(requests, HEADER.size)
        if header is None:
            return
        body = _read(requests, HEADER.unpack(header)[0])
        if body is None:
            return
        reply: tuple[str, Any]
        try:
            kind, version, payload = pickle.loads(body)
            if kind == "load":
                held = (version, pickle.loads(payload))
                reply = ("ok", version)
            elif kind == "score":
                if held is None or held[0] != version:
                    reply = ("ok", None)
                else:
                    detector = held[1]
                    reply = ("ok", [detector.score(t, c, prior_contacts=p) for t, c, p in payload])
            else:
                reply = ("error", f"unknown request {kind!r}")
        except Exception:
            reply = ("error", traceback.format_exc(limit=3))
        out = pickle.dumps(reply, pickle.HIGHEST_PROTOCOL)
        replies.write(HEADER.pack(len(out)) + out)
        replies.flush()


def main() -> None:
    """Entry point of `python -m hub.analysis.scoring_worker`."""
    try:
        os.nice(NICENESS)
    except OSError:
        pass
    # Replies get a private copy of stdout; anything else printed goes to stderr, not into a frame.
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    serve(sys.stdin.buffer, replies)


if __name__ == "__main__":
    main()
