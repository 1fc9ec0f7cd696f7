"""Marshmallow schemas of GitSlotPark's callback bodies, classic and agent dialects."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from wallet.fields import Amount, describe, strict_bool, wire_id

__all__ = [
    "AgentBetWin",
    "AgentDeposit",
    "AgentMoney",
    "AgentRollback",
    "Base",
    "BetWin",
    "Money",
    "Rollback",
    "Schema",
    "describe",
]


class Base(Schema):
    """GetBalance, and the fields every callback has."""

    class Meta:
        unknown = EXCLUDE

    agent_id = wire_id("agentID")
    user_id = wire_id("userID")
    sign = fields.Raw(load_default="")  # missing or malformed: result 3, not 2


class _Round(Base):
    transaction_id = wire_id("transactionID")
    round_id = wire_id("roundID")


class Money(_Round):
    """Withdraw and Deposit."""

    amount = Amount(required=True)
    free_spin = strict_bool("freeSpin")


class BetWin(_Round):
    bet_amount = Amount(required=True, data_key="betAmount")
    win_amount = Amount(required=True, data_key="winAmount")


class Rollback(Base):
    transaction_id = wire_id("transactionID")


def _game_id() -> fields.Integer:
    return fields.Integer(data_key="gameID", required=True, strict=True, validate=validate.Range(0, 2**63 - 1))


class AgentMoney(Money):
    """Agent dialect Withdraw: an integer gameID, signed last."""

    game_id = _game_id()


class AgentDeposit(AgentMoney):
    """Agent dialect Deposit: the bet it pays in refTransactionID (optional: a win without a bet)."""

    ref_transaction_id = wire_id("refTransactionID", required=False, load_default="")


class AgentBetWin(BetWin):
    game_id = _game_id()


class AgentRollback(Rollback):
    """Agent dialect Rollback: transactionID is the rollback's own id, refTransactionID the original."""

    ref_transaction_id = wire_id("refTransactionID")
