"""Budgets in steps or minutes, option checks, and the wall-clock cosine schedule."""

from __future__ import annotations

import math

import pytest
import torch

from srmri.isotropic.options import Budget, IsotropicOptions
from srmri.lightning import schedules


@pytest.mark.parametrize(
    ("value", "steps", "minutes"),
    [
        (1500, 1500, None),
        ("1500", 1500, None),
        ("200steps", 200, None),
        ("4min", None, 4.0),
        ("2.5min", None, 2.5),
    ],
)
def test_budget_parses_steps_and_minutes(value, steps, minutes):
    budget = Budget.parse(value)
    assert (budget.steps, budget.minutes) == (steps, minutes)


@pytest.mark.parametrize("value", ["0", "-3", "ten", "4h", "2.5", "0min"])
def test_bad_budgets_are_named(value):
    with pytest.raises(ValueError, match="budget"):
        Budget.parse(value)


def test_options_name_the_bad_key():
    with pytest.raises(ValueError, match="isotropic: profile must be one of"):
        IsotropicOptions(profile="box")
    with pytest.raises(ValueError, match="isotropic: thickness must be null or > 0"):
        IsotropicOptions(thickness=0)
    with pytest.raises(ValueError, match="isotropic: budget"):
        IsotropicOptions(budget="soon")
    with pytest.raises(ValueError, match="isotropic: precision must be one of"):
        IsotropicOptions(precision="float16")


def test_cosine_by_time_follows_the_clock(monkeypatch):
    now = [100.0]
    monkeypatch.setattr(schedules.time, "monotonic", lambda: now[0])
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    scheduler = schedules.cosine_by_time(optimizer, minutes=2.0, min_factor=0.0)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(1.0)
    for seconds, expected in ((30, 0.5 * (1 + math.cos(math.pi / 4))), (60, 0.5), (120, 0.0)):
        now[0] = 100.0 + seconds
        optimizer.step()
        scheduler.step()
        assert optimizer.param_groups[0]["lr"] == pytest.approx(expected)
