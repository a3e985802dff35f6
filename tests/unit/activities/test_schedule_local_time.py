"""crm.schedule_activity's reading of start and end: as given with an offset, else in the input's ``timezone``,
else in the client's time zone; a local time the clocks skip, or no zone at all, is refused."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pydantic
import pytest

from crm_core.actions.activities.schedule_activity import _LocalTimeReader
from crm_core.errors import ValidationError
from tests.support.errors import broken_rule
from tests.support.inputs import CLIENT_ID, schedule_input


def reader(timezone: str | None = None, client_timezone: str | None = "America/New_York") -> _LocalTimeReader:
    """The reader of a schedule_activity input with ``timezone``, for a client in ``client_timezone``."""
    return _LocalTimeReader(
        schedule_input(timezone=timezone), SimpleNamespace(client_id=CLIENT_ID, timezone=client_timezone)
    )


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def test_naive_times_are_read_in_the_given_zone() -> None:
    assert reader("Europe/Berlin").to_utc(datetime(2027, 3, 2, 10, 0), "start_time") == utc("2027-03-02T09:00:00Z")


def test_the_given_zone_wins_over_the_clients() -> None:
    assert reader("Asia/Tokyo").to_utc(datetime(2027, 3, 2, 10, 0), "start_time") == utc("2027-03-02T01:00:00Z")


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        pytest.param(datetime(2027, 3, 2, 10, 0), "2027-03-02T15:00:00Z", id="winter-EST"),
        pytest.param(datetime(2027, 7, 1, 10, 0), "2027-07-01T14:00:00Z", id="summer-EDT"),
    ],
)
def test_naive_times_are_read_in_the_clients_zone(local: datetime, expected: str) -> None:
    assert reader().to_utc(local, "start_time") == utc(expected)


def test_times_with_an_offset_ignore_the_zones() -> None:
    tokyo = reader("Asia/Tokyo")

    assert tokyo.to_utc(datetime.fromisoformat("2027-03-02T10:00:00+01:00"), "start_time") == utc(
        "2027-03-02T09:00:00Z"
    )
    assert tokyo.to_utc(datetime.fromisoformat("2027-03-02T05:00:00-05:00"), "end_time") == utc("2027-03-02T10:00:00Z")


def test_naive_time_without_any_zone_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        reader(client_timezone=None).to_utc(datetime(2027, 3, 2, 10, 0), "start_time")

    expected = "an offset (Z or +hh:mm), the timezone input, or a client with a time zone"
    assert caught.value.details == broken_rule(
        "timezone_for_local_time", "start_time", expected, "2027-03-02T10:00:00", client_id=str(CLIENT_ID)
    )


def test_local_time_skipped_by_daylight_saving_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        reader().to_utc(datetime(2027, 3, 14, 2, 30), "end_time")

    expected = "a local time that exists in America/New_York"
    assert caught.value.details == broken_rule(
        "local_time_exists", "end_time", expected, "2027-03-14T02:30:00", timezone="America/New_York"
    )


def test_local_time_repeated_by_daylight_saving_is_read_as_the_first() -> None:
    """01:30 on 2027-11-07 happens twice in New York; the first (still EDT, UTC-4) is taken."""
    assert reader().to_utc(datetime(2027, 11, 7, 1, 30), "start_time") == utc("2027-11-07T05:30:00Z")


def test_client_with_an_invalid_zone_is_explained() -> None:
    with pytest.raises(ValidationError) as caught:
        reader(client_timezone="Mars/Olympus_Mons").to_utc(datetime(2027, 3, 2, 10, 0), "start_time")

    assert caught.value.details == broken_rule(
        "client_timezone_valid", "timezone", "an IANA time zone", "Mars/Olympus_Mons", client_id=str(CLIENT_ID)
    )


@pytest.mark.parametrize("zone", ["Europe/Atlantis", "UTC+2", "../etc/passwd"])
def test_unknown_zone_name_is_refused_by_the_input(zone: str) -> None:
    with pytest.raises(pydantic.ValidationError) as caught:
        schedule_input(timezone=zone)

    (error,) = caught.value.errors()
    assert error["loc"] == ("timezone",)
    assert "unknown IANA time zone" in error["msg"]
