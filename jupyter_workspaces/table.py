"""The workspace table: its column catalogue, a pandas DataFrame of workspaces, CSV export.

Every face that shows workspaces as rows (the REST API and its CSV download, the CLI's
`export`, the notebook panel) takes its columns from `COLUMNS`, so a column has one id, one
title and one meaning everywhere. Times are ISO-8601 UTC strings with a trailing `Z`. Cells
that a spreadsheet would run as a formula are neutralised in CSV output by a leading single
quote, so opening an exported table never executes text that a workspace's owner chose.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from operator import itemgetter
from typing import Any

import pandas as pd

from jupyter_workspaces.errors import InvalidInput
from jupyter_workspaces.records import Workspace, iso


@dataclass(frozen=True)
class Column:
    """One column a user may choose: its id in URLs and files, its title, what it holds."""

    id: str
    title: str
    description: str
    default: bool
    value: Callable[[Workspace], Any]

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form served by the column catalogue endpoint."""
        return {
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "default": self.default,
        }


COLUMNS: tuple[Column, ...] = (
    Column("name", "Name", "The workspace's name, unique in its project.", True, lambda w: w.name),
    Column(
        "displayName",
        "Display name",
        "The name its owner gave it for people; the workspace name when none was given.",
        False,
        lambda w: w.display_name or w.name,
    ),
    Column(
        "project", "Project", "The project (namespace) it lives in.", True, lambda w: w.project
    ),
    Column("owner", "Owner", "The user who created it.", True, lambda w: w.owner),
    Column(
        "status",
        "Status",
        "One of Pending, Initializing, Active, Stopped, Failed.",
        True,
        lambda w: w.status.status,
    ),
    Column(
        "reason",
        "Reason",
        "A short code for why it has this status, such as QuotaExceeded or CrashLoopBackOff.",
        True,
        lambda w: w.status.reason,
    ),
    Column(
        "message",
        "Explanation",
        "The plain-words explanation of the status, with numbers and what to do.",
        False,
        lambda w: w.status.message,
    ),
    Column(
        "since",
        "Since",
        "When the current status began (ISO-8601 UTC).",
        True,
        lambda w: iso(w.status.since),
    ),
    Column("image", "Image", "The container image it runs.", False, lambda w: w.image),
    Column(
        "tools",
        "Tools",
        "The tools it serves, comma-separated (jupyterlab, vscode, tensorboard...).",
        False,
        lambda w: ",".join(w.tools),
    ),
    Column("cpu", "CPU", "CPU cores requested (Kubernetes quantity).", False, lambda w: w.cpu),
    Column(
        "memory", "Memory", "Memory requested (Kubernetes quantity).", False, lambda w: w.memory
    ),
    Column("gpu", "GPUs", "Number of GPUs requested.", True, lambda w: w.gpu),
    Column(
        "volumeSize",
        "Volume",
        "Size of the home volume that keeps its data across stops.",
        False,
        lambda w: w.volume_size,
    ),
    Column("node", "Node", "The node its pod runs on, if any.", False, lambda w: w.node),
    Column(
        "created",
        "Created",
        "When it was created (ISO-8601 UTC).",
        False,
        lambda w: iso(w.created),
    ),
    Column(
        "lastActivated",
        "Last activated",
        "When it was last asked to run (ISO-8601 UTC).",
        False,
        lambda w: iso(w.last_activated),
    ),
    Column(
        "stoppedAt",
        "Stopped at",
        "When it was last stopped (ISO-8601 UTC).",
        False,
        lambda w: iso(w.stopped_at),
    ),
    Column(
        "stoppedBy",
        "Stopped by",
        "Who stopped it last: user:<name> or policy:<name>.",
        False,
        lambda w: w.stopped_by,
    ),
    Column(
        "stopReason", "Stop reason", "Why it was last stopped.", False, lambda w: w.stop_reason
    ),
)

_BY_ID: dict[str, Column] = {column.id: column for column in COLUMNS}
_POSITION: dict[str, int] = {column.id: index for index, column in enumerate(COLUMNS)}

# A spreadsheet treats a cell starting with one of these as a formula (or, for tab and CR,
# may shift it into one); a leading single quote makes it plain text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def column_ids() -> list[str]:
    """Return every known column id, in catalogue order."""
    return [column.id for column in COLUMNS]


def default_column_ids() -> list[str]:
    """Return the ids of the columns shown when the user has chosen none."""
    return [column.id for column in COLUMNS if column.default]


def parse_columns(requested: str | Sequence[str] | None) -> list[str]:
    """Return the column ids a user asked for, in their order, or the default columns.

    `requested` is a comma-separated string (as in `?columns=a,b`) or a sequence of ids.
    Unknown or repeated ids raise InvalidInput naming the bad id and the valid ones.
    """
    if requested is None:
        return default_column_ids()
    if isinstance(requested, str):
        parts = [part.strip() for part in requested.split(",")]
    else:
        parts = [part.strip() for part in requested]
    ids = [part for part in parts if part]
    if not ids:
        raise InvalidInput(
            f"columns {requested!r} names no column; give one or more of: "
            + ", ".join(column_ids())
        )
    unknown = [part for part in ids if part not in _BY_ID]
    if unknown:
        raise InvalidInput(
            f"unknown column {', '.join(repr(u) for u in unknown)}; known columns are: "
            + ", ".join(column_ids())
        )
    seen: set[str] = set()
    for part in ids:
        if part in seen:
            raise InvalidInput(f"column {part!r} is given twice; name each column once")
        seen.add(part)
    return ids


def workspaces_frame(
    workspaces: Iterable[Workspace], columns: Sequence[str] | None = None
) -> pd.DataFrame:
    """Return a DataFrame with one row per workspace and exactly `columns`, in that order.

    Column labels are the column ids. Missing values are None (empty in CSV).
    """
    ids = parse_columns(columns)
    rows = list(workspaces)
    frame = pd.DataFrame({cid: [_BY_ID[cid].value(w) for w in rows] for cid in ids}, columns=ids)
    if "gpu" in frame.columns:
        frame["gpu"] = frame["gpu"].astype("int64")
    return frame


def neutralise(value: Any) -> Any:
    """Return a text cell that a spreadsheet would run as a formula as plain text ('...)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of `frame` whose text cells that would start a formula begin with '."""
    safe = frame.copy()
    for cid in safe.columns:
        if not pd.api.types.is_numeric_dtype(safe[cid].dtype):
            safe[cid] = safe[cid].map(neutralise)
    return safe


def csv_cells(workspace: Workspace) -> tuple[Any, ...]:
    """Return every catalogue column of one workspace as CSV cells, formulas neutralised.

    A server may keep these per record and build many downloads from them (`csv_from_cells`).
    """
    return tuple(neutralise(column.value(workspace)) for column in COLUMNS)


def csv_from_cells(rows: Sequence[tuple[Any, ...]], columns: Sequence[str] | None = None) -> str:
    """Return CSV text of rows made by `csv_cells`, with exactly `columns` in that order."""
    ids = parse_columns(columns)
    if ids != column_ids():
        pick = itemgetter(*(_POSITION[cid] for cid in ids))
        rows = [pick(row) for row in rows] if len(ids) > 1 else [(pick(row),) for row in rows]
    # Object columns keep every cell as built (ints stay ints, None stays empty) and spare
    # pandas a type inference pass per column.
    frame = pd.DataFrame(rows, columns=ids, dtype=object)
    text: str = frame.to_csv(index=False, lineterminator="\r\n")
    return text


def to_csv(workspaces: Iterable[Workspace], columns: Sequence[str] | None = None) -> str:
    """Return the workspaces as CSV text with a header row of column ids, formulas neutralised."""
    ids = parse_columns(columns)
    return csv_from_cells([csv_cells(w) for w in workspaces], ids)


def csv_filename(day: date) -> str:
    """Return the download file name for a table exported on `day`."""
    return f"workspaces-{day.isoformat()}.csv"
