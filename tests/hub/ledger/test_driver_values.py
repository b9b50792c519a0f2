"""The SQLite writer's own conversions of datetimes and dates to the driver's text
(hub/ledger/precompiled.py `bind_processor`) give exactly what SQLAlchemy's bind processors
give, or fail as they do, for every value: UTC and other zones, naive ones, dates, datetimes
given as dates, None, years below 1000, any microsecond."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Date
from sqlalchemy.dialects import sqlite

from hub.ledger.precompiled import bind_processor
from hub.store.base import UTCDateTime

DIALECT = sqlite.dialect()
zones = st.sampled_from(
    (
        UTC,
        timezone(timedelta(0)),
        timezone(timedelta(hours=5, minutes=30)),
        timezone(-timedelta(hours=3)),
    )
)
moments = st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31))
values = st.one_of(
    st.none(),
    st.builds(lambda m, z: m.replace(tzinfo=z), moments, zones),
    moments,  # naive: refused alike
    st.dates(),
)


def outcome(process: Any, value: object) -> tuple[str, object]:
    try:
        return "value", process(value)
    except (ValueError, TypeError, AttributeError) as error:
        return "error", type(error)


@pytest.mark.parametrize("type_", [UTCDateTime(), Date()], ids=["utc-datetime", "date"])
@settings(max_examples=500, derandomize=True, database=None, deadline=None)
@given(value=values)
def test_the_driver_text_is_sqlalchemy_s(type_: Any, value: object) -> None:
    ours = bind_processor(type_, DIALECT)
    theirs = type_.dialect_impl(DIALECT).bind_processor(DIALECT)
    assert outcome(ours, value) == outcome(theirs, value)
