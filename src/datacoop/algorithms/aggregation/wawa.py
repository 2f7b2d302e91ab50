"""Wawa — "worker agreement with aggregate": majority vote re-weighted by agreement with it.

Model
-----
One round, no likelihood:

1. Majority vote: :math:`m_t = \\arg\\max_c n_{tc}` (ties to the label that sorts first).
2. Each worker's skill is their agreement with that vote,

   .. math::  s_w = \\frac{1}{|A_w|} \\sum_{i \\in A_w} [y_i = m_{t_i}],

   where :math:`A_w` are the answers of worker :math:`w` (duplicates included).
3. Weighted re-vote: :math:`p_{tc} \\propto \\sum_{i: t_i = t, y_i = c} s_{w_i}`,
   :math:`\\hat z_t = \\arg\\max_c p_{tc}`.

Assumption: workers who agree more with the crowd are more reliable; the weight is linear in
that agreement. A task whose voters all have skill 0 keeps its plain majority-vote shares.

Tie rule: equal weighted shares go to the label that sorts first (near-ties within 1e-12
relative count as ties, see :mod:`.majority_vote`).

Reference: Appen (CrowdFlower) "Worker Agreement With Aggregate" metric; crowd-kit's ``Wawa``
(Ustalov et al., "Learning from Crowds with Crowd-Kit", JOSS 9(96):6227, 2024).

Example
-------
>>> import pandas as pd
>>> df = pd.DataFrame({
...     "task":   ["t1", "t1", "t1", "t2", "t2", "t3", "t3", "t3"],
...     "worker": ["a", "b", "c", "a", "c", "a", "b", "c"],
...     "label":  [1, 1, 0, 0, 1, 1, 1, 1],
... })
>>> model = Wawa().fit(df)
>>> model.labels_.to_dict()
{'t1': 1, 't2': 0, 't3': 1}
>>> model.skills_.round(3).to_dict()
{'a': 1.0, 'b': 1.0, 'c': 0.333}

Majority vote makes ``t2`` a 1-1 tie resolved to ``0`` (sorts first); ``c`` agrees with the
vote on 1 of 3 tasks, ``a`` on all 3, so the re-vote keeps ``t2 = 0`` (weight 1 vs 1/3).
"""

from __future__ import annotations

from datacoop.algorithms.aggregation._base import (
    BaseClassificationAggregator,
    Encoded,
    argmax_first,
)
from datacoop.algorithms.aggregation.majority_vote import (
    agreement,
    vote_shares,
)

__all__ = ["Wawa"]


class Wawa(BaseClassificationAggregator):
    """Majority vote weighted by each worker's agreement with the plain majority vote.

    Learned attributes: ``labels_``, ``probas_`` (normalised weighted vote shares) and
    ``skills_`` (agreement of each worker with the plain majority vote, in [0, 1]).
    """

    def _fit(self, enc: Encoded) -> None:
        mv = argmax_first(vote_shares(enc))
        skills = agreement(enc, mv)
        self._set_from_probas(enc, vote_shares(enc, skills))
        self._set_skills(enc, skills)
