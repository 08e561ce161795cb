"""Validator strategies (MODEL.md section 6, "Validators")."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from agents.base import GradingValidator, register
from world.interfaces import Group, SubnetContext
from world.work import weights_from_scores


def honest_weights(group: Group, ctx: SubnetContext) -> np.ndarray:
    """Weights from the group's own moving averages of perceived scores, on miners only.

    MODEL.md section 5: normalised, optionally sharpened or top-k.
    """
    scores = ctx.score_ema[group.uids] * ctx.subnet.is_miner[None, :]
    return weights_from_scores(scores, group.param("sharpen"), group.param("top_k"))


@register
class HonestValidator(GradingValidator):
    """Honest validator: grades every response it gets and pays the grading cost.

    Weights follow its own perception of quality (MODEL.md section 5), so it can rank
    miners only up to its own capability (claim 6). It is the baseline that weight
    copying (claim 3) and collusion (claims 8, 11) are measured against.
    """

    name = "honest_validator"
    classifier: ClassVar[dict] = {
        "role": "validator",
        "cost_model": "grading cost per response + GPU server",
        "colludes": False,
        "stochastic": True,
        "needs_gpu": True,
        "grades": True,
    }

    @classmethod
    def set_weights(cls, group: Group, ctx: SubnetContext) -> np.ndarray:
        return honest_weights(group, ctx)
