"""KOS: iterative message passing for binary crowdsourcing (Karger, Oh & Shah, 2011).

Model
-----
Binary tasks with true answers :math:`z_t \\in \\{-1, +1\\}`; worker ``w`` is right with an unknown
probability :math:`p_w` (the one-coin model, no priors). Answers are coded
:math:`A_{tw} = -1` for the label that sorts first and :math:`+1` for the other. On the bipartite
task–worker graph (one edge per answer) messages are passed for ``n_iter`` rounds:

.. math::

    x_{t \\to w} = \\sum_{w' \\in \\partial t \\setminus w} A_{tw'} \\, y_{w' \\to t}, \\qquad
    y_{w \\to t} = \\sum_{t' \\in \\partial w \\setminus t} A_{t'w} \\, x_{t' \\to w},

starting from :math:`y_{w \\to t} \\sim N(1, 1)` drawn from ``np.random.default_rng(seed)``
(the paper's initialisation). ``x`` is a task's belief without the worker's own vote, ``y`` a
worker's reliability judged on the other tasks. The estimate is

.. math::

    \\hat z_t = \\operatorname{sign} \\sum_{w \\in \\partial t} A_{tw} \\, y_{w \\to t}.

Messages grow geometrically, so after every half-round they are divided by their root mean
square; signs, and hence labels, are unchanged by this scaling (it replaces the overflow
check that makes other implementations stop early). Random draws are attached to answers
after sorting them by (task, worker, label), so the result does not depend on row order.

Assumptions: exactly two labels (otherwise ``InvalidData``); the theory needs a random
(ℓ, r)-regular assignment, but the iteration runs on any graph. Duplicate answers are
separate edges.

Convergence: a fixed number of rounds, as in the paper. ``n_iter_`` is ``n_iter``;
``converged_`` is True when the sign of every task's sum did not change in the last round.

Tie rule: a task whose final sum is exactly 0 (for instance when every message it receives is
0) gets the label that sorts first, like every other method here.

Learned attributes: ``labels_``, ``skills_`` (per worker, the aggregated reliability
:math:`y_w = \\sum_{t \\in \\partial w} A_{tw} x_{t \\to w}`, divided by the largest
:math:`|y_w|` so it lies in ``[-1, 1]``; negative = answers against the consensus),
``scores_`` (per task, the final sum :math:`\\sum_w A_{tw} y_{w \\to t}` after scaling;
positive favours the second label), ``n_iter_``, ``converged_``. There are no probabilities,
so ``probas_`` stays ``None``.

Reference: D. R. Karger, S. Oh, D. Shah, "Iterative Learning for Reliable Crowdsourcing
Systems", NIPS 2011.

Example
-------
>>> import pandas as pd
>>> df = pd.DataFrame({
...     "task":   ["t1", "t1", "t1", "t2", "t2", "t2", "t3"],
...     "worker": ["a", "b", "c", "a", "b", "c", "a"],
...     "label":  ["yes", "yes", "no", "no", "no", "yes", "yes"],
... })
>>> KOS(seed=0).fit_predict(df).to_dict()
{'t1': 'yes', 't2': 'no', 't3': 'yes'}
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from datacoop.algorithms.aggregation._base import BaseClassificationAggregator, Encoded
from datacoop.errors import InvalidData

__all__ = ["KOS"]


def _rms_scaled(v: np.ndarray) -> np.ndarray:
    """``v`` divided by its root mean square (unchanged if it is all zeros)."""
    rms = float(np.sqrt(np.mean(v * v))) if len(v) else 0.0
    return v / rms if rms > 0 else v


class KOS(BaseClassificationAggregator):
    """KOS belief propagation for binary labels (see the module docstring).

    Parameters
    ----------
    n_iter:
        Number of message-passing rounds.
    seed:
        Seed of ``np.random.default_rng`` for the initial worker messages.
    """

    scores_: pd.Series | None = None

    def __init__(self, n_iter: int = 10, seed: int | None = 0) -> None:
        self.n_iter = n_iter
        self.seed = seed

    def _fit(self, enc: Encoded) -> None:
        if enc.n_classes != 2:
            raise InvalidData(
                f"KOS needs exactly 2 distinct labels, got {enc.n_classes}: "
                f"{', '.join(map(str, enc.classes[:10]))}"
            )
        if self.n_iter < 0:
            raise InvalidData("KOS needs n_iter >= 0")
        order = np.lexsort((enc.y, enc.w, enc.t))  # canonical edge order
        t, w = enc.t[order], enc.w[order]
        a = np.where(enc.y[order] == 1, 1.0, -1.0)
        n_t, n_w = enc.n_tasks, enc.n_workers

        rng = np.random.default_rng(self.seed)
        y_msg = rng.normal(1.0, 1.0, size=len(t))  # y_{w -> t}, one per edge
        signs = np.sign(np.bincount(t, a * y_msg, n_t))
        self.converged_ = False
        for _ in range(self.n_iter):
            # Task -> worker: everything the task hears, minus what this worker said.
            x_msg = _rms_scaled(np.bincount(t, a * y_msg, n_t)[t] - a * y_msg)
            # Worker -> task: the worker's agreement on all other tasks.
            y_msg = _rms_scaled(np.bincount(w, a * x_msg, n_w)[w] - a * x_msg)
            new_signs = np.sign(np.bincount(t, a * y_msg, n_t))
            self.converged_ = bool(np.array_equal(new_signs, signs))
            signs = new_signs
        self.n_iter_ = self.n_iter

        scores = np.bincount(t, a * y_msg, n_t)
        codes = (scores > 0).astype(np.int64)  # sum exactly 0 -> first label
        index = pd.Index(enc.tasks, name="task")
        self.labels_ = pd.Series(enc.classes[codes], index=index, name="agg_label")
        self.scores_ = pd.Series(scores, index=index, name="score")
        if self.n_iter > 0:
            reliab = np.bincount(w, a * x_msg, n_w)
        else:
            reliab = np.bincount(w, a * np.bincount(t, a, n_t)[t], n_w)
        top = float(np.max(np.abs(reliab))) if len(reliab) else 0.0
        self._set_skills(enc, reliab / top if top > 0 else reliab)
