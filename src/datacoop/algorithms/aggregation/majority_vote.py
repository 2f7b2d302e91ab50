"""Majority vote, and the (weighted) vote-share helpers the other aggregators build on.

Model
-----
No worker model: every answer is one vote. With ``n_{tc}`` the number of answers giving task
``t`` class ``c``, the vote share is

.. math::

    p_{tc} = n_{tc} / \\sum_{c'} n_{tc'},   \\qquad   \\hat z_t = \\arg\\max_c p_{tc}.

Duplicate answers (the same worker answering a task twice) count as two votes, as in crowd-kit.

Tie rule
--------
Equal shares go to the label that sorts first (``np.unique`` order). Scores within ``1e-12``
(relative) of the row maximum count as tied, so that the order in which floating-point
weights are summed (i.e. the row order of the input) can never break a tie.

Reference: the baseline of every survey, e.g. Zheng et al., "Truth Inference in Crowdsourcing:
Is the Problem Solved?", PVLDB 10(5), 2017.

Example
-------
>>> import pandas as pd
>>> df = pd.DataFrame({
...     "task":   ["t1", "t1", "t1", "t2", "t2"],
...     "worker": ["a", "b", "c", "a", "b"],
...     "label":  ["cat", "dog", "dog", "dog", "cat"],
... })
>>> MajorityVote().fit_predict(df).to_dict()
{'t1': 'dog', 't2': 'cat'}

``t2`` is a 1-1 tie, which goes to ``'cat'`` because it sorts first.
"""

from __future__ import annotations

import numpy as np

from datacoop.algorithms.aggregation._base import BaseClassificationAggregator, Encoded

__all__ = [
    "MajorityVote",
    "agreement",
    "vote_shares",
    "weighted_counts",
]


def weighted_counts(enc: Encoded, weights: np.ndarray | None = None) -> np.ndarray:
    """``(n_tasks, n_classes)`` sums of worker weights per (task, class); ``None`` = weight 1."""
    k = enc.n_classes
    per_answer = None if weights is None else weights[enc.w]
    flat = np.bincount(enc.t * k + enc.y, weights=per_answer, minlength=enc.n_tasks * k)
    return flat.astype(float).reshape(enc.n_tasks, k)


def vote_shares(enc: Encoded, weights: np.ndarray | None = None) -> np.ndarray:
    """Weighted vote shares per task (rows sum to 1).

    ``weights`` holds one non-negative weight per worker code. A task whose voters all have
    weight 0 falls back to its unweighted shares (plain majority vote), so every row is a
    proper distribution.
    """
    counts = weighted_counts(enc, weights)
    total = counts.sum(axis=1)
    if weights is not None:
        empty = total <= 0
        if empty.any():
            plain = weighted_counts(enc)
            counts[empty] = plain[empty]
            total[empty] = plain[empty].sum(axis=1)
    return np.asarray(counts / total[:, None])


def agreement(enc: Encoded, labels: np.ndarray) -> np.ndarray:
    """Per worker: the fraction of their answers equal to ``labels[task]`` (integer codes)."""
    hits = (enc.y == labels[enc.t]).astype(float)
    agree = np.bincount(enc.w, weights=hits, minlength=enc.n_workers)
    n = np.bincount(enc.w, minlength=enc.n_workers)
    return np.asarray(agree / n)


class MajorityVote(BaseClassificationAggregator):
    """Plain majority vote.

    Learned attributes: ``labels_`` (Series indexed by task, named ``agg_label``) and
    ``probas_`` (tasks × labels DataFrame of vote shares). There is no worker model, so
    ``skills_`` stays ``None``.
    """

    def _fit(self, enc: Encoded) -> None:
        self._set_from_probas(enc, vote_shares(enc))
