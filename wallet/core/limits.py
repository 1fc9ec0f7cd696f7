"""Player protection: deposit, loss and stake limits and exclusions, enforced inside the bet script.

The limits live in one hash per player (lua/_shared.lua, "Player protection"); the money scripts
read it in the same atomic step as the debit, so parallel bets cannot pass a limit together.
Periods are calendar periods (day, ISO week from Monday, month) in WALLET_LIMIT_TIMEZONE
(docs/player-protection.md says why); the scripts get the current ids from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

PERIODS = ("day", "week", "month")
KINDS = ("deposit", "loss")
#: Every limit a player may have: deposit and loss per period, and the stake per bet.
NAMES = (*(f"{kind}:{period}" for kind in KINDS for period in PERIODS), "stake")
EXCLUSIONS = ("cool-off", "self-exclusion")
#: What a player may carry for the rules: ISO 3166-1 alpha-2 country, date of birth (ISO 8601).
FACTS = ("country", "birth_date")


def age_bands(birth: date, caps: list[tuple[int, int, int]], zone: ZoneInfo) -> str:
    """The agecap field for a player born on ``birth``: each (youngest, oldest, cap) band of
    WALLET_AGE_STAKE_CAPS as 'cap|from ms|to ms' (from the birthday of the youngest age, in
    ``zone``, to the one after the oldest)."""

    def birthday(age: int) -> int:
        year = birth.year + age
        day = birth.replace(year=year) if (birth.month, birth.day) != (2, 29) else date(year, 3, 1)
        return int(datetime(day.year, day.month, day.day, tzinfo=zone).timestamp() * 1000)

    return ",".join(f"{cap}|{birthday(youngest)}|{birthday(oldest + 1)}" for youngest, oldest, cap in caps)


def period_ids(now: float, zone: ZoneInfo) -> tuple[str, str, str]:
    """The ids of the day, ISO week and month holding ``now`` (unix seconds) in ``zone``."""
    local = datetime.fromtimestamp(now, zone)
    year, week, _ = local.isocalendar()
    return local.date().isoformat(), f"{year}-W{week:02d}", f"{local.year}-{local.month:02d}"


def period_starts(now: float, zone: ZoneInfo) -> list[tuple[str, datetime]]:
    """(id, start) of the current day, ISO week and month in ``zone`` (restore sums from there)."""
    local = datetime.fromtimestamp(now, zone)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    week = day - timedelta(days=day.weekday())
    month = day.replace(day=1)
    return list(zip(period_ids(now, zone), (day, week, month), strict=True))


def script_args(now: float, zone: ZoneInfo) -> list[str | int]:
    """What a money script reads after its own arguments: now in unix ms, then the period ids."""
    return [int(now * 1000), *period_ids(now, zone)]


def changes_arg(changes: dict[str, int | None]) -> str:
    """lua/limits.lua's changes: 'name=value;...' in minor units, '' removing a limit."""
    return ";".join(f"{name}={'' if value is None else value}" for name, value in changes.items())


@dataclass
class Protection:
    """A player's limits as they apply now: each limit, what its period has used, the pending
    raises and removals (value None: removal) with their effective unix ms, the exclusion."""

    limits: dict[str, int] = field(default_factory=dict)
    used: dict[str, int] = field(default_factory=dict)
    pending: dict[str, tuple[int | None, int]] = field(default_factory=dict)
    exclusion: tuple[str, int] | None = None  # (kind, until unix ms; 0 = indefinite), while active
    facts: dict[str, str] = field(default_factory=dict)  # country, birth_date (where the operator set them)
    age_cap: int | None = None  # the stake cap of the player's age band now (WALLET_AGE_STAKE_CAPS)


def read(stored: dict[str, str], now: float, zone: ZoneInfo) -> Protection:
    """The limits hash (lua/_shared.lua) as of ``now``: raises that came due applied, counters of
    past periods read as 0, an exclusion that ended dropped."""
    ms, ids = int(now * 1000), dict(zip(PERIODS, period_ids(now, zone), strict=True))
    found = Protection()
    for name in NAMES:
        if name in stored:
            found.limits[name] = int(stored[name])
        value, _, at = stored.get(f"next:{name}", "").partition("|")
        if at and int(at) <= ms:
            found.limits.pop(name, None)
            if value:
                found.limits[name] = int(value)
        elif at:
            found.pending[name] = (int(value) if value else None, int(at))
    for kind in KINDS:
        for period in PERIODS:
            period_id, _, amount = stored.get(f"used:{kind}:{period}", "").partition("|")
            found.used[f"{kind}:{period}"] = int(amount) if period_id == ids[period] else 0
    found.facts = {name: stored[name] for name in FACTS if name in stored}
    for band in filter(None, stored.get("agecap", "").split(",")):
        cap, start, end = (int(part) for part in band.split("|"))
        if start <= ms < end:
            found.age_cap = cap
    kind, _, until = stored.get("exclusion", "").partition("|")
    if kind and (int(until) == 0 or ms < int(until)):
        found.exclusion = (kind, int(until))
    return found
