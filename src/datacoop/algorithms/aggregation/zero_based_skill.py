"""Zero-Based Skill (ZBS): weighted majority vote with skills learned by gradient steps.

Model
-----
Every worker starts with skill :math:`s_w^{(0)} = 0` ("zero-based"). Iteration
:math:`k = 1, 2, \\dots` does:

1. Weighted vote with the current skills,

   .. math:: p^{(k)}_{tc} \\propto \\sum_{i: t_i = t,\\ y_i = c} s^{(k-1)}_{w_i},
             \\qquad z^{(k)}_t = \\arg\\max_c p^{(k)}_{tc}.

   A task whose voters all have skill 0 uses plain vote counts, so the first vote
   (all skills 0) is exactly majority vote.
2. Agreement of each worker with that vote,
   :math:`a^{(k)}_w = |A_w|^{-1} \\sum_{i \\in A_w} [y_i = z^{(k)}_{t_i}]`.
3. One gradient step on the squared error :math:`\\tfrac12 \\sum_w (s_w - a^{(k)}_w)^2`:

   .. math:: s^{(k)}_w = s^{(k-1)}_w + \\eta_k \\, (a^{(k)}_w - s^{(k-1)}_w),
             \\qquad \\eta_k = \\mathrm{lr} \\cdot
             \\mathrm{lr\\_reduce\\_factor}^{\\lfloor (k-1) / \\mathrm{lr\\_steps\\_to\\_reduce} \\rfloor}.

With ``lr = 1`` the first step gives Wawa's skills; the fixed point is a set of skills equal
to each worker's agreement with the vote those skills produce. The decaying step size makes
the iteration settle even if labels keep flipping.

Convergence: stop after iteration :math:`k` when :math:`\\max_w |s^{(k)}_w - s^{(k-1)}_w| <`
``eps``, or after ``n_iter`` iterations. The final labels and ``probas_`` are the weighted
vote with the final skills.

Tie rule: equal weighted shares go to the label that sorts first (near-ties within 1e-12
relative count as ties).

Reference: Toloka crowd-kit ``ZeroBasedSkill`` (Ustalov et al., "Learning from Crowds with
Crowd-Kit", JOSS 9(96):6227, 2024); the update above is our own statement of that idea.

Example
-------
>>> import pandas as pd
>>> df = pd.DataFrame({
...     "task":   ["t1", "t1", "t1", "t2", "t2", "t3", "t3", "t3"],
...     "worker": ["a", "b", "c", "a", "c", "a", "b", "c"],
...     "label":  [1, 1, 0, 0, 1, 1, 1, 1],
... })
>>> model = ZeroBasedSkill().fit(df)
>>> model.labels_.to_dict()
{'t1': 1, 't2': 0, 't3': 1}
>>> model.skills_.round(3).to_dict()
{'a': 1.0, 'b': 1.0, 'c': 0.333}
>>> model.n_iter_, model.converged_
(2, True)
"""

from __future__ import annotations

import numpy as np

from datacoop.algorithms.aggregation._base import (
    BaseClassificationAggregator,
    Encoded,
    argmax_first,
)
from datacoop.algorithms.aggregation.majority_vote import (
    agreement,
    vote_shares,
)
from datacoop.errors import InvalidData

__all__ = ["ZeroBasedSkill"]


class ZeroBasedSkill(BaseClassificationAggregator):
    """Weighted majority vote whose worker skills are learned by damped fixed-point steps.

    Parameters: ``n_iter`` (max iterations, default 100), ``lr`` (initial step size, 1.0),
    ``lr_steps_to_reduce`` (iterations between step-size cuts, 20), ``lr_reduce_factor``
    (multiplier at each cut, 0.5), ``eps`` (convergence threshold on skills, 1e-5).

    Learned attributes: ``labels_``, ``probas_`` (weighted vote shares), ``skills_``,
    ``n_iter_`` (iterations run) and ``converged_``.
    """

    n_iter_: int
    converged_: bool

    def __init__(
        self,
        n_iter: int = 100,
        lr: float = 1.0,
        lr_steps_to_reduce: int = 20,
        lr_reduce_factor: float = 0.5,
        eps: float = 1e-5,
    ) -> None:
        self.n_iter = n_iter
        self.lr = lr
        self.lr_steps_to_reduce = lr_steps_to_reduce
        self.lr_reduce_factor = lr_reduce_factor
        self.eps = eps

    def _check_params(self) -> None:
        if self.n_iter < 1:
            raise InvalidData("n_iter must be at least 1")
        if not 0 < self.lr <= 1:
            raise InvalidData("lr must be in (0, 1]")
        if self.lr_steps_to_reduce < 1:
            raise InvalidData("lr_steps_to_reduce must be at least 1")
        if not 0 < self.lr_reduce_factor <= 1:
            raise InvalidData("lr_reduce_factor must be in (0, 1]")
        if self.eps < 0:
            raise InvalidData("eps must be non-negative")

    def _fit(self, enc: Encoded) -> None:
        self._check_params()
        skills = np.zeros(enc.n_workers)
        converged = False
        k = 0
        for k in range(1, self.n_iter + 1):
            labels = argmax_first(vote_shares(enc, skills))
            step = self.lr * self.lr_reduce_factor ** ((k - 1) // self.lr_steps_to_reduce)
            new = skills + step * (agreement(enc, labels) - skills)
            delta = float(np.max(np.abs(new - skills)))
            skills = new
            if delta < self.eps:
                converged = True
                break
        self._set_from_probas(enc, vote_shares(enc, skills))
        self._set_skills(enc, skills)
        self.n_iter_ = k
        self.converged_ = converged
