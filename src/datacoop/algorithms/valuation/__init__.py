"""Data valuation: how much each item, and each contributor, adds to what a dataset is worth.

Exact KNN values (``knn_shapley``, ``soft_knn_shapley``, ``knn_banzhaf``), estimators for
any scikit-learn model (``data_oob``, ``tmc_shapley``, which returns an :class:`Estimate`
with standard errors) and contributor-level values (``contributor_values``,
``contributor_knn_shapley``, ``contributor_shapley_mc``). Pass a ``distributed.Client``
as ``client=`` to the KNN functions to shard the test points over a Dask cluster.

See ``docs/valuation.md`` for the formulas, references, the tie rule and which value the
platform uses for what.
"""

from datacoop.algorithms.valuation.contributors import (
    contributor_knn_shapley,
    contributor_shapley_mc,
    contributor_values,
)
from datacoop.algorithms.valuation.knn import knn_banzhaf, knn_shapley, soft_knn_shapley
from datacoop.algorithms.valuation.oob import data_oob
from datacoop.algorithms.valuation.tmc import Estimate, tmc_shapley

__all__ = [
    "Estimate",
    "contributor_knn_shapley",
    "contributor_shapley_mc",
    "contributor_values",
    "data_oob",
    "knn_banzhaf",
    "knn_shapley",
    "soft_knn_shapley",
    "tmc_shapley",
]
