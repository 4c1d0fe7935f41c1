"""Reading Kubernetes' texts and times: the numbers a status message is built from."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from jupyter_workspaces.status.messages import (
    amount,
    duration,
    eviction_cause,
    parse_quota_message,
    parse_scheduler_message,
    pull_failure_cause,
)
from jupyter_workspaces.status.objects import event_first_seen, event_last_seen, parse_time

UTC = timezone.utc


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("2026-05-04T09:00:00Z", datetime(2026, 5, 4, 9, tzinfo=UTC), id="time"),
        pytest.param(
            "2026-05-04T09:00:00.123456Z",
            datetime(2026, 5, 4, 9, 0, 0, 123456, tzinfo=UTC),
            id="micro-time",
        ),
        pytest.param(
            "2026-05-04T11:00:00+02:00", datetime(2026, 5, 4, 9, tzinfo=UTC), id="offset"
        ),
        pytest.param(
            "2026-05-04T09:00:00.5Z",
            datetime(2026, 5, 4, 9, 0, 0, 500000, tzinfo=UTC),
            id="short-fraction",
        ),
        pytest.param(None, None, id="null"),
        pytest.param("yesterday", None, id="not-a-time"),
    ],
)
def test_kubernetes_times_are_read_as_utc(text: str | None, expected: datetime | None) -> None:
    assert parse_time(text) == expected


def test_an_old_style_event_is_timed_by_its_timestamps() -> None:
    old = {
        "firstTimestamp": "2026-05-04T09:00:00Z",
        "lastTimestamp": "2026-05-04T09:10:00Z",
        "eventTime": None,
    }
    assert event_first_seen(old) == datetime(2026, 5, 4, 9, tzinfo=UTC)
    assert event_last_seen(old) == datetime(2026, 5, 4, 9, 10, tzinfo=UTC)


def test_a_new_style_event_is_timed_by_event_time_and_its_series() -> None:
    new = {
        "firstTimestamp": None,
        "lastTimestamp": None,
        "eventTime": "2026-05-04T09:00:00.000001Z",
        "series": {"count": 4, "lastObservedTime": "2026-05-04T09:07:00.000001Z"},
    }
    assert event_first_seen(new) == datetime(2026, 5, 4, 9, 0, 0, 1, tzinfo=UTC)
    assert event_last_seen(new) == datetime(2026, 5, 4, 9, 7, 0, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        pytest.param(20, "less than a minute", id="seconds"),
        pytest.param(60, "1 minute", id="one-minute"),
        pytest.param(3 * 3600 + 5 * 60, "3 hours 5 minutes", id="hours"),
        pytest.param(2 * 86400 + 3600, "2 days 1 hour", id="days"),
        pytest.param(-5, "less than a minute", id="clock-skew"),
    ],
)
def test_durations_read_naturally(seconds: int, words: str) -> None:
    assert duration(timedelta(seconds=seconds)) == words


@pytest.mark.parametrize(
    ("resource", "quantity", "words"),
    [
        pytest.param("requests.nvidia.com/gpu", "2", "2 GPUs", id="gpus"),
        pytest.param("requests.nvidia.com/gpu", "1", "1 GPU", id="one-gpu"),
        pytest.param("limits.cpu", "500m", "0.5 CPU", id="millicores"),
        pytest.param("cpu", "4", "4 CPUs", id="cpus"),
        pytest.param("requests.memory", "16Gi", "16 GiB of memory", id="memory"),
        pytest.param("requests.storage", "500G", "500 GB of storage", id="storage"),
    ],
)
def test_amounts_are_said_in_words(resource: str, quantity: str, words: str) -> None:
    assert amount(resource, quantity) == words


def test_a_quota_message_with_two_short_resources_gives_both() -> None:
    shortages = parse_quota_message(
        'pods "bert-0" is forbidden: exceeded quota: team, requested: '
        "limits.cpu=4,requests.nvidia.com/gpu=1, used: limits.cpu=30,requests.nvidia.com/gpu=4, "
        "limited: limits.cpu=32,requests.nvidia.com/gpu=4"
    )
    assert [(s.quota, s.resource, s.requested, s.used, s.hard) for s in shortages] == [
        ("team", "limits.cpu", "4", "30", "32"),
        ("team", "requests.nvidia.com/gpu", "1", "4", "4"),
    ]


def test_a_message_without_quota_gives_no_shortage() -> None:
    assert parse_quota_message('pods "bert-0" is forbidden: error looking up service') == []


@pytest.mark.parametrize(
    ("message", "nodes", "kinds"),
    [
        pytest.param(
            "0/3 nodes are available: 3 Insufficient nvidia.com/gpu.", 3, [("gpu", 3)], id="gpu"
        ),
        pytest.param(
            "0/4 nodes are available: 1 node(s) were unschedulable, 3 Too many pods.",
            4,
            [("cordoned", 1), ("pods", 3)],
            id="cordoned-and-full",
        ),
        pytest.param("no nodes available to schedule pods", None, [("other", None)], id="none"),
    ],
)
def test_scheduler_messages_are_split_into_counted_reasons(
    message: str, nodes: int | None, kinds: list[tuple[str, int | None]]
) -> None:
    verdict = parse_scheduler_message(message)
    assert verdict.nodes == nodes
    assert [(b.kind, b.nodes) for b in verdict.blockers] == kinds


@pytest.mark.parametrize(
    ("error", "cause"),
    [
        pytest.param("manifest unknown: manifest unknown", "does not exist", id="manifest"),
        pytest.param(
            "pull access denied for foo, repository does not exist or may require "
            "'docker login': denied: requested access to the resource is denied",
            "or the registry needs credentials",
            id="docker-ambiguous",
        ),
        pytest.param(
            "dial tcp: lookup reg.example.org: no such host", "could not be reached", id="dns"
        ),
        pytest.param("something odd", "could not download", id="unknown"),
    ],
)
def test_pull_errors_are_explained(error: str, cause: str) -> None:
    assert cause in pull_failure_cause(error)


def test_an_eviction_for_disk_names_the_disk() -> None:
    cause = eviction_cause(
        "The node was low on resource: ephemeral-storage. Threshold quantity: 10Gi, available: "
        "2Gi. Container workspace was using 40Gi, which exceeds its request of 0. "
    )
    assert cause == (
        "the node ran low on local disk space; the workspace was using 40Gi (it requested 0)"
    )
