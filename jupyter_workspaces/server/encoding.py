"""JSON for the REST answers, with each workspace's text kept until its record changes.

The watch cache replaces a Workspace record only when something about it changed, so the
JSON text of a record can be kept as long as the very same record object is current. At
10,000 workspaces this turns the list answer from ~10,000 `to_dict` + encode calls into a
join of kept strings.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from jupyter_workspaces.records import Workspace


def json_default(value: Any) -> Any:
    """Encode what `json` cannot: datetimes as ISO-8601 (UTC as Z), sets and tuples as lists."""
    if isinstance(value, datetime | date):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(value: Any) -> str:
    """Return `value` as JSON text, datetimes included."""
    return json.dumps(value, default=json_default)


class RecordJson:
    """Keeps the JSON text of each current Workspace record; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # id(record) -> (record, text); the record is kept so that its id is not reused.
        self._texts: dict[int, tuple[Workspace, str]] = {}
        self._largest = 0

    def text(self, record: Workspace) -> str:
        """Return the JSON text of one record."""
        return self.texts([record])[0]

    def texts(self, records: Sequence[Workspace]) -> list[str]:
        """Return the JSON text of each record, encoding only those not seen before."""
        with self._lock:
            kept = self._texts
            fresh: dict[int, tuple[Workspace, str]] = {}
            out = []
            for record in records:
                entry = kept.get(id(record))
                if entry is None or entry[0] is not record:
                    entry = (record, dumps(record.to_dict()))
                fresh[id(record)] = entry
                out.append(entry[1])
            # Keep what this answer did not use (a filtered list must not evict the rest),
            # until replaced records pile up well past the largest answer given so far.
            kept.update(fresh)
            self._largest = max(self._largest, len(fresh))
            if len(kept) > 2 * self._largest + 1000:
                self._texts = fresh
            return out

    def list_body(self, key: str, records: Sequence[Workspace]) -> str:
        """Return `{"<key>": [records...]}` as JSON text."""
        return '{"%s": [%s]}' % (key, ",".join(self.texts(records)))  # noqa: UP031
