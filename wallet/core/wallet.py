"""The wallet core: players and money movements as outcomes, one script call each (no HTTP here)."""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from wallet.core import journal, limits, signs, tokens
from wallet.core.aged import probe
from wallet.core.money import LEGACY_UNIT, MAX_BALANCE, exponent, reduced
from wallet.core.records import fingerprint
from wallet.core.store import PlayerKeys, Store
from wallet.errors import StoreUnavailable
from wallet.ops import metrics

UTC_ZONE = ZoneInfo("UTC")
#: How long a round's bet ids stay indexed for a cancel that names only the round (seconds).
ROUND_INDEX_SECONDS = 2 * 24 * 3600


class Outcome(enum.StrEnum):
    """What a wallet operation did; protocol adapters map these to their wire codes."""

    OK = "OK"
    DUPLICATE = "DUPLICATE"  # seen before with the same parameters: first answer, nothing applied
    CONFLICT = "CONFLICT"  # id seen before with other parameters: nothing applied
    NO_PLAYER = "NO_PLAYER"
    EXISTS = "EXISTS"  # create_player: the id is taken
    BLOCKED = "BLOCKED"
    NO_SESSION = "NO_SESSION"
    CURRENCY = "CURRENCY"  # the player's currency is not the request's, or not its account's
    BAD_AMOUNT = "BAD_AMOUNT"  # more decimals than the player's currency (unit) has
    TOO_LARGE = "TOO_LARGE"  # past the per-request limit, or the balance would pass MAX_BALANCE
    NO_FUNDS = "NO_FUNDS"
    NOT_FOUND = "NOT_FOUND"  # reversal of a transaction never applied (now remembered as cancelled)
    NOT_A_BET = "NOT_A_BET"  # a cancel (bets only) named a win: nothing done
    ROLLED_BACK = "ROLLED_BACK"  # already reversed, or cancelled before it arrived
    PRUNED = "PRUNED"  # internal: a record left Redis after its retention (restored from SQL)
    LIMIT = "LIMIT"  # a player's limit refuses the bet or deposit (Result.limit names it, .left what is left)
    EXCLUDED = "EXCLUDED"  # the player is in a cool-off or self-exclusion (Result.limit names which)


@dataclass(frozen=True, slots=True)
class Result:
    """An operation's outcome with the player's balance and our reference when there is one."""

    outcome: Outcome
    balance: int | None = None
    reference: str | None = None
    balance_after: int | None = None  # balance right after the (first) application
    currency: str | None = None
    status: str | None = None
    delta: int = 0  # what an applied change moved (0 for replays and refusals)
    unit: int = LEGACY_UNIT  # decimals of every amount here: the player's unit (wallet/core/money.py)
    limit: str | None = None  # LIMIT: the limit (loss:day, stake, ...); EXCLUDED: the exclusion's kind
    left: int | None = None  # LIMIT: what that limit still allows, in the player's unit

    @property
    def ok(self) -> bool:
        """Applied now or before: the caller answers success."""
        return self.outcome in (Outcome.OK, Outcome.DUPLICATE)


@dataclass(frozen=True, slots=True)
class Move:
    """One money movement asked for by a provider or the cashier. Amounts in minor units."""

    provider: str
    player: str
    tx: str
    bet: int = 0
    win: int = 0
    round: str = ""
    game: str = ""
    currency: str = ""  # the currency condition: '' any, a digit d: at most d decimals, or a code
    exp: int = 2  # decimals of bet and win as given (the script converts them to the player's unit)
    free_spin: bool = False  # the provider pays the stake: no funds taken
    check_blocked: bool = True
    need_session: bool = False
    index_round: bool = False  # remember the bet under its round, for a cancel by round
    bonus: str = ""  # the free-spin grant or bonus that pays it ('free-spin' when unnamed)
    reason: str = ""  # a cashier adjustment's reason: part of the request (a replay must repeat it)
    audit: str = ""  # the audit row journalled with the movement (JSON; wallet/operator/audit.py)

    def fingerprint(self, kind: str) -> str:
        """Equal for two requests that are the same request (replays), different otherwise."""
        amounts = f"{self.bet}|{self.win}" if self.exp == 2 else f"{self.bet}|{self.win}e{self.exp}"
        reason = f"|{self.reason}" if self.reason else ""
        return fingerprint(f"{kind}|{amounts}|{self.round}|{self.game}|{int(self.free_spin)}{reason}")

    def probe(self) -> str:
        return probe(self.provider, self.player, self.tx)

    def flags(self) -> str:
        return ("B" if self.check_blocked else "") + ("S" if self.need_session else "")

    def meta(self) -> str:
        """The journal entry's metadata (wallet/core/journal.py): who, where, which bonus; the money
        really bet and won is journalled by the script itself, in the player's unit."""
        bonus = self.bonus or ("free-spin" if self.free_spin else "")
        if self.audit:
            return journal.meta(self.provider, self.player, self.round, self.game, "", "", bonus, self.audit)
        return journal.meta(self.provider, self.player, self.round, self.game, "", "", bonus)


class Archive(Protocol):
    """Where transaction records pruned from Redis are kept (the durable ledger in SQL)."""

    def record(self, provider: str, player: str, tx: str) -> str | None:
        """The record of ``tx`` as Redis JSON, or None."""


class Wallet:
    """Every operation on players' money. Each method is one atomic Redis script call (two more,
    only when a transaction older than the retention comes back and its record is restored)."""

    def __init__(self, store: Store, archive: Archive | None = None, zone: ZoneInfo = UTC_ZONE) -> None:
        self.store = store
        self.archive = archive
        self.zone = zone  # where the limits' days, weeks and months begin (wallet/core/limits.py)

    def _protect(self) -> list[str | int]:
        return limits.script_args(self.store.clock(), self.zone)

    def create_player(self, player: str, currency: str) -> Result:
        """Open an account kept at its currency's decimals for good (CURRENCY: an unknown currency)."""
        unit = exponent(currency)
        if unit is None:
            return Result(Outcome.CURRENCY)
        keys = self.store.keys(player)
        return _account(self.store.run("create_player", [keys.account, keys.ledger], [currency, player, unit]))

    def player(self, player: str, need_session: bool = False) -> Result:
        """Balance, currency and status (NO_SESSION when a session is required and closed)."""
        keys = self.store.keys(player)
        flags = "S" if need_session else ""
        return _account(self.store.run("balance", [keys.account, keys.session], [flags]))

    def set_status(self, player: str, status: str) -> Result:
        keys = self.store.keys(player)
        return _account(self.store.run("set_status", [keys.account, keys.ledger], [status, player]))

    def debit(self, move: Move, kind: str = "bet") -> Result:
        """Take move.bet (nothing for a free spin); refused when funds are short."""
        keys = self.store.keys(move.player)
        (amount,), exp = reduced((0 if move.free_spin else move.bet,), move.exp)
        if amount > MAX_BALANCE:
            return Result(Outcome.TOO_LARGE)
        index_seconds = ROUND_INDEX_SECONDS if move.index_round else 0
        args = [
            move.tx,
            move.probe(),
            move.fingerprint(kind),
            amount,
            move.flags(),
            move.currency,
            kind,
            index_seconds,
            move.meta(),
            exp,
            *self._protect(),
        ]
        script_keys = [*_money_keys(keys, move), keys.round(move.provider, move.round), keys.limits]
        return _counted(self._money("debit", script_keys, args, move.provider, keys), move.provider, kind)

    def credit(self, move: Move, kind: str = "win", pays: str = "") -> Result:
        """Pay move.win; never refused for funds, status or session. ``pays``: the bet this win
        pays, which must be applied and not reversed (NOT_FOUND otherwise; '' = none needed)."""
        keys = self.store.keys(move.player)
        (amount,), exp = reduced((move.win,), move.exp)
        if amount > MAX_BALANCE:
            return Result(Outcome.TOO_LARGE)
        meta = move.meta()
        args = [move.tx, move.probe(), move.fingerprint(kind), amount, kind, meta, move.currency, exp]
        args += [pays, probe(move.provider, move.player, pays) if pays else "", *self._protect()]
        script_keys = [*_money_keys(keys, move)[:3], keys.limits]
        result = self._money("credit", script_keys, args, move.provider, keys, probed=(0, 8))
        return _counted(result, move.provider, kind)

    def bet_win(self, move: Move) -> Result:
        """Take move.bet and pay move.win in one step; funds checked against the bet."""
        keys = self.store.keys(move.player)
        (bet, win), exp = reduced((move.bet, move.win), move.exp)
        if max(bet, win) > MAX_BALANCE:
            return Result(Outcome.TOO_LARGE)
        args = [
            move.tx,
            move.probe(),
            move.fingerprint("betwin"),
            bet,
            win,
            move.flags(),
            move.currency,
            move.meta(),
            exp,
            *self._protect(),
        ]
        result = self._money("betwin", [*_money_keys(keys, move), keys.limits], args, move.provider, keys)
        if result.outcome is Outcome.OK:
            metrics.money(move.provider, str(result.currency), "bet", move.bet)
            metrics.money(move.provider, str(result.currency), "win", move.win)
        return result

    def rollback(
        self,
        provider: str,
        player: str,
        target: str,
        own_tx: str = "",
        kind: str = "rollback",
        round_id: str = "",
        currency: str = "",
        bets_only: bool = False,
    ) -> Result:
        """Reverse ``target``, or with target '' every unreversed bet of ``round_id`` (a round with
        none yet is remembered as cancelled: its late bets are refused).

        ``own_tx`` is the reversal's own id when the protocol gives one (its replays are answered);
        ``currency`` the account's currency condition (as Move.currency); ``bets_only``: a cancel,
        which never reverses a win (NOT_FOUND).
        """
        keys = self.store.keys(player)
        args = [
            target,
            probe(provider, player, target) if target else "",
            own_tx,
            probe(provider, player, own_tx) if own_tx else "",
            fingerprint(f"{kind}|{target}|{round_id}"),
            kind,
            journal.meta(provider, player, round_id),
            currency,
            "1" if bets_only else "",
            ROUND_INDEX_SECONDS,
            *self._protect(),
        ]
        script_keys = [keys.account, keys.txs(provider), keys.ledger, keys.round(provider, round_id), keys.limits]
        result = self._money("rollback", script_keys, args, provider, keys, probed=(0, 2))
        return _counted(result, provider, "rollback")

    def claim(self, provider: str, signature: str, body: str, kind: str = "sign") -> Outcome:
        """Remember that ``signature`` signed ``body`` (wallet/core/signs.py): OK the first time,
        DUPLICATE for the same body again, CONFLICT for another body (refuse the request).
        ``kind`` names the registry: 'sign', or 'tx' for a provider's global transaction ids."""
        registry = signs.registry(provider, kind)
        bucket, digest = signs.claim_id(signature)
        keys = self.store.keys(bucket)
        args = [digest, probe(registry, bucket, digest), fingerprint(body), journal.meta(registry, bucket)]
        return self._money("claim", [keys.txs(registry), keys.ledger], args, registry, keys).outcome

    def _money(
        self,
        script: str,
        script_keys: list[str],
        args: list[Any],
        provider: str,
        keys: PlayerKeys,
        probed: tuple[int, ...] = (0,),
    ) -> Result:
        """Run a money script with the shard's aged-id directory (its KEYS after ``script_keys``,
        and ARGV[1]); learn a newer directory when the script answers STALE; restore a record it
        names as aged from the archive. Each time, call again.

        ``probed``: positions in ``args`` of the transaction ids whose aged-id probe follows them.
        An id the filter knows but SQL does not was a false positive: its probe is dropped and
        the script runs again, treating the id as new.
        """
        known, aged_keys = self.store.aged_view(keys.shard)
        unit, reply = self._run(script, [*script_keys, *aged_keys], [known, *args])
        for _ in range(8):  # a round cancel may meet several aged bets
            if reply[0] == "STALE":
                known, aged_keys = self.store.learn(keys.shard, reply[1])
            elif reply[0] != Outcome.PRUNED:
                break
            elif not self._rehydrate(provider, keys, reply[2], from_filter=reply[3] == "filter"):
                args = [*args]
                for i in probed:
                    if args[i] == reply[2]:
                        args[i + 1] = ""
            unit, reply = self._run(script, [*script_keys, *aged_keys], [known, *args])
        if reply[0] in ("STALE", Outcome.PRUNED):  # the job kept changing things under us: try later
            raise StoreUnavailable(f"{script}: the aged-id filter or records kept changing; retry")
        if reply[0] in (Outcome.DUPLICATE, Outcome.CONFLICT):
            metrics.REPLAYS.labels(provider, reply[0].lower()).inc()
        return _money(reply, keys, unit)

    def _run(self, script: str, keys: list[str], args: list[Any]) -> tuple[int, list[Any]]:
        """The player's unit ('' read as hundredths) and the rest of a money script's reply."""
        unit, *reply = self.store.run(script, keys, args)
        return int(unit or LEGACY_UNIT), reply

    def _rehydrate(self, provider: str, keys: PlayerKeys, tx: str, from_filter: bool) -> bool:
        """Put an aged record back from SQL; False when SQL has none and the filter's hit was false."""
        record = self.archive.record(provider, keys.player, tx) if self.archive else None
        if record is None and from_filter:
            metrics.AGED_LOOKUPS.labels("false_positive").inc()
            return False
        if record is None:
            raise StoreUnavailable(f"record {provider}/{keys.player}/{tx} left Redis but is not in SQL")
        metrics.AGED_LOOKUPS.labels("found").inc()
        self.store.run("rehydrate", [keys.txs(provider)], [tx, record])
        return True

    def open_session(self, player: str, seconds: int, token: str = "") -> int | None:
        """Open (or renew) the player's game session, issuing ``token`` with it (wallet/core/tokens.py);
        its expiry in unix ms, None for no such player."""
        return self._session(player, seconds * 1000, tokens.digest(token) if token else "")

    def close_session(self, player: str) -> bool:
        """Close the player's game session, ending its tokens; False for no such player."""
        return self._session(player, 0, "") is not None

    def check_token(self, player: str, token: str) -> Outcome:
        """OK while ``token`` was issued to ``player`` in their open session; NOT_FOUND for a token
        never issued to them (or long forgotten); NO_SESSION when its session has ended."""
        keys = self.store.keys(player)
        return Outcome(self.store.run("token", [keys.tokens, keys.session], [tokens.digest(token)])[0])

    def set_limits(
        self,
        player: str,
        changes: dict[str, int | None],
        exclusion: tuple[str, int] | None = None,
        cooling_seconds: int = 86400,
        audit: str = "",
        seeds: dict[str, str] | None = None,
        facts: dict[str, str] | None = None,
    ) -> tuple[Outcome, limits.Protection | None]:
        """Change limits (minor units of the player's unit; None removes) and start an exclusion
        ((kind, until unix ms; 0 = indefinite)): tighter now, looser after ``cooling_seconds``
        (lua/limits.lua). ``seeds``: the counters to start from if the player has no limits yet
        (the current periods' play from SQL); ``facts``: country, birth_date and agecap to set at
        once ('' removes one). OK with the limits after it; EXCLUDED when the
        exclusion would shorten the current one; NO_PLAYER."""
        keys = self.store.keys(player)
        args = [
            *self._protect(),
            cooling_seconds * 1000,
            limits.changes_arg(changes),
            f"{exclusion[0]}|{exclusion[1]}" if exclusion else "",
            journal.meta("operator", player, "", "", "", "", "", audit),
            ";".join(f"{name}={value}" for name, value in (seeds or {}).items()),
            ";".join(f"{name}={value}" for name, value in (facts or {}).items()),
        ]
        _, outcome, *rest = self.store.run("limits", [keys.account, keys.limits, keys.ledger], args)
        if outcome != Outcome.OK:
            return Outcome(outcome), None
        stored = dict(zip(rest[::2], rest[1::2], strict=True))
        return Outcome.OK, limits.read(stored, self.store.clock(), self.zone)

    def protection(self, player: str) -> limits.Protection:
        """The player's limits as they apply now (nothing for a player without any)."""
        return limits.read(self.store.limits(player), self.store.clock(), self.zone)

    def _session(self, player: str, lifetime_ms: int, digest: str) -> int | None:
        keys = self.store.keys(player)
        args = [lifetime_ms, _now_ms(), digest, tokens.KEPT, tokens.GRACE_SECONDS * 1000]
        reply = self.store.run("session", [keys.account, keys.session, keys.tokens], args)
        return int(reply[1]) if reply[0] == Outcome.OK else None


def _counted(result: Result, provider: str, kind: str) -> Result:
    """Count an applied change in the money metrics under its ledger kind (reversals: 'rollback')."""
    if result.outcome is Outcome.OK:
        metrics.money(provider, str(result.currency), kind, abs(result.delta))
    return result


def _money_keys(keys: PlayerKeys, move: Move) -> list[str]:
    return [keys.account, keys.txs(move.provider), keys.ledger, keys.session]


def _money(reply: list[Any], keys: PlayerKeys, unit: int) -> Result:
    """Decode {outcome, balance, ledger id, balance after}; our reference is '<shard>-<ledger id>'."""
    outcome = Outcome(reply[0])
    if len(reply) == 1:
        return Result(outcome, unit=unit)
    if outcome in (Outcome.LIMIT, Outcome.EXCLUDED):
        metrics.PROTECTION_REFUSALS.labels(str(reply[2]).split(":")[0]).inc()
        return Result(outcome, balance=int(reply[1]), unit=unit, limit=str(reply[2]), left=int(reply[3]))
    ref = f"{keys.shard}-{reply[2]}" if len(reply) > 2 else None
    after = int(reply[3]) if len(reply) > 3 else None
    currency, delta = (reply[4], int(reply[5])) if len(reply) > 5 else (None, 0)
    return Result(
        outcome, balance=int(reply[1]), reference=ref, balance_after=after, currency=currency, delta=delta, unit=unit
    )


def _account(reply: list[str]) -> Result:
    """Decode {unit, outcome, balance, currency, status}."""
    unit, outcome, *rest = reply
    if not rest:
        return Result(Outcome(outcome))
    return Result(
        Outcome(outcome), balance=int(rest[0]), currency=rest[1], status=rest[2], unit=int(unit or LEGACY_UNIT)
    )


def _now_ms() -> int:
    return time.time_ns() // 1_000_000
