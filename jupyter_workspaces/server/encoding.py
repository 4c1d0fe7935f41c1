"""Encoded forms of workspaces (JSON text, CSV cells) kept until their record changes.

The watch cache replaces a Workspace record only when something about it changed, so the
JSON text of a record can be kept as long as the very same record object is current. At
10,000 workspaces this turns the list answer from ~10,000 `to_dict` + encode calls into a
join of kept strings, and spares the CSV download 200,000 cell computations.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from jupyter_workspaces.records import Workspace

T = TypeVar("T")


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


class RecordMemo(Generic[T]):
    """Keeps `make(record)` for each current Workspace record; thread-safe."""

    def __init__(self, make: Callable[[Workspace], T]) -> None:
        self._make = make
        self._lock = threading.Lock()
        # id(record) -> (record, value); the record is kept so that its id is not reused.
        self._values: dict[int, tuple[Workspace, T]] = {}
        self._largest = 0

    def values(self, records: Sequence[Workspace]) -> list[T]:
        """Return the value of each record, making only those of records not seen before."""
        with self._lock:
            kept = self._values
            fresh: dict[int, tuple[Workspace, T]] = {}
            out = []
            for record in records:
                entry = kept.get(id(record))
                if entry is None or entry[0] is not record:
                    entry = (record, self._make(record))
                fresh[id(record)] = entry
                out.append(entry[1])
            # Keep what this answer did not use (a filtered list must not evict the rest),
            # until replaced records pile up well past the largest answer given so far.
            kept.update(fresh)
            self._largest = max(self._largest, len(fresh))
            if len(kept) > 2 * self._largest + 1000:
                self._values = fresh
            return out

    def __len__(self) -> int:
        return len(self._values)


def record_text(record: Workspace) -> str:
    """Return one record's JSON text, as GET workspaces/{project}/{name} serves it."""
    return dumps(record.to_dict())


class RecordJson(RecordMemo[str]):
    """Keeps the JSON text of each current record."""

    def __init__(self) -> None:
        super().__init__(record_text)

    def text(self, record: Workspace) -> str:
        """Return the JSON text of one record."""
        return self.values([record])[0]

    def list_body(self, key: str, records: Sequence[Workspace]) -> str:
        """Return `{"<key>": [records...]}` as JSON text."""
        return '{"%s": [%s]}' % (key, ",".join(self.values(records)))  # noqa: UP031
