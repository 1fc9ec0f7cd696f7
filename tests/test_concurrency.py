"""Concurrent callbacks: one script call per callback makes duplicates and races exact."""

from __future__ import annotations

from flask import Flask

from tests.conftest import Operator, Provider, together


def test_32_concurrent_copies_applied_once(app: Flask, operator: Operator, gsp: Provider) -> None:
    """32 simultaneous copies of one Withdraw: applied once, every copy answered alike."""
    operator.create("p1", balance="100.00")
    replies = together(app, 32, Provider, lambda p, i: p.withdraw("p1", "7.50", "same-tx"))
    assert {(r["result"], r["transactionID"]) for r in replies} == {(0, replies[0]["transactionID"])}
    assert gsp.balance("p1")["balance"] == 92.50


def test_32_concurrent_rollbacks_reverse_once(app: Flask, operator: Operator, gsp: Provider) -> None:
    """32 simultaneous rollbacks of one Withdraw: exactly one succeeds, 31 answer 9."""
    operator.create("p1", balance="100.00")
    gsp.withdraw("p1", "40.00", "t1")
    results = sorted(r["result"] for r in together(app, 32, Provider, lambda p, i: p.rollback("p1", "t1")))
    assert results == [0] + [9] * 31
    assert gsp.balance("p1")["balance"] == 100.00


def test_64_concurrent_bets_exactly_affordable(app: Flask, operator: Operator, gsp: Provider) -> None:
    """64 distinct 10.00 bets on a 250.00 balance: exactly 25 succeed, the rest answer 6, never negative."""
    operator.create("p1", balance="250.00")
    replies = together(app, 64, Provider, lambda p, i: p.withdraw("p1", "10.00", f"bet-{i}"))
    results = [r["result"] for r in replies]
    assert results.count(0) == 25
    assert results.count(6) == 39
    assert min(r["balance"] for r in replies if r["result"] == 0) == 0
    assert gsp.balance("p1")["balance"] == 0
