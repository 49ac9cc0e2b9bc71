"""A clock for the backup programs under test: backup ids are per second, so each call
returns now, but at least a second after the previous call."""

from __future__ import annotations

import datetime

_LAST_TIME = [datetime.datetime.now(datetime.UTC)]


def distinct_seconds() -> datetime.datetime:
    _LAST_TIME[0] = max(datetime.datetime.now(datetime.UTC), _LAST_TIME[0] + datetime.timedelta(seconds=1))
    return _LAST_TIME[0]
