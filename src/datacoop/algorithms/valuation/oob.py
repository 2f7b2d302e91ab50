"""Data-OOB: the out-of-bag accuracy of each training item as its data value.

Fit ``B`` copies of a classifier on bootstrap samples ``S_1..S_B`` of the training set
(``m`` draws with replacement each). Item ``i`` is *out of bag* for model ``b`` when
``i ∉ S_b``; its value is the fraction of those models that predict its label
(Kwon & Zou 2023, eq. 3, with ``T(y, ŷ) = 1[y = ŷ]``)::

    ψ_i = Σ_b 1[i ∉ S_b] · 1[f_b(x_i) = y_i]  /  Σ_b 1[i ∉ S_b]

A mislabelled item disagrees with the models trained on its (correctly labelled) neighbours,
so it gets a low value; Data-OOB is a cheap, strong detector of mislabelled items.

Choices
-------
* An item that is in bag for every model has no out-of-bag evidence: its value is ``NaN``.
  Any number put there (0, the mean, ...) would be invented and could move a payment; ``NaN``
  makes the caller decide (more models, or leave the item out). With ``m = N`` the chance is
  about ``0.632**B`` per item, negligible for the default ``B``.
* A bootstrap sample that holds a single class yields the constant predictor of that class
  (many classifiers refuse to fit one class).
* Sampling is reproducible from ``seed``: with ``rng = numpy.random.default_rng(seed)``,
  model ``b = 0..B−1`` uses ``rng.integers(0, N, m)`` as its bootstrap rows and then
  ``rng.integers(2**31 − 1)`` as every ``random_state`` parameter of its estimator copy
  (as scikit-learn's ``BaggingClassifier`` re-seeds its members).

Reference: Y. Kwon and J. Zou, "Data-OOB: Out-of-bag Estimate as a Simple and Efficient Data
Value", ICML 2023. The paper's weak learners are decision trees, ``B = 800``.

Example
-------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> x = np.r_[rng.normal(-2, 1, (30, 2)), rng.normal(2, 1, (30, 2))]
>>> y = np.r_[np.zeros(30, int), np.ones(30, int)]
>>> y[0] = 1                                   # one flipped label
>>> values = data_oob(x, y, n_estimators=100, seed=0)
>>> int(np.argmin(values))
0
"""

from __future__ import annotations

from typing import Any

import numpy as np

from datacoop.algorithms.valuation._checks import (
    as_classifier,
    as_features,
    as_labels,
    as_rng,
    check_count,
    fit_predict,
    with_random_state,
)
from datacoop.errors import InvalidData

__all__ = ["data_oob"]


def _label_codes(y: np.ndarray) -> np.ndarray:
    try:
        classes, codes = np.unique(y, return_inverse=True)
    except TypeError:
        raise InvalidData(
            "labels mix types that cannot be compared (e.g. numbers and text)"
        ) from None
    if len(classes) < 2:
        raise InvalidData("y_train holds a single class: every model would predict it")
    return codes.astype(np.int64)


def _sample_size(max_samples: Any, n: int) -> int:
    """``m``: a fraction in (0, 1] of ``N``, or an integer count in [1, N]."""
    if isinstance(max_samples, bool):
        raise InvalidData(f"max_samples must be a fraction or a count, got {max_samples!r}")
    if isinstance(max_samples, int | np.integer):
        if not 1 <= max_samples <= n:
            raise InvalidData(f"max_samples must be between 1 and {n} items, got {max_samples}")
        return int(max_samples)
    if isinstance(max_samples, float | np.floating) and 0.0 < max_samples <= 1.0:
        return max(1, round(float(max_samples) * n))
    raise InvalidData(f"max_samples must be a fraction in (0, 1] or a count, got {max_samples!r}")


def data_oob(
    x_train: Any,
    y_train: Any,
    estimator: Any = None,
    *,
    n_estimators: int = 800,
    max_samples: float | int = 1.0,
    seed: int | np.random.Generator = 0,
) -> np.ndarray:
    """Data-OOB value of each training item: its out-of-bag accuracy over bootstrap models.

    ``ψ_i = Σ_b 1[i ∉ S_b]·1[f_b(x_i) = y_i] / Σ_b 1[i ∉ S_b]`` (Kwon & Zou 2023); ``NaN``
    for an item that is never out of bag (see the module docstring for why).

    Parameters
    ----------
    x_train, y_train
        The items to value (no test set is needed).
    estimator
        Any scikit-learn classifier, refitted on each bootstrap sample. Default
        ``DecisionTreeClassifier()`` (the paper's weak learner).
    n_estimators
        ``B``, the number of bootstrap models (default 800, as in the paper).
    max_samples
        Bootstrap size ``m``: a fraction of ``N`` (default 1.0) or a count.
    seed
        Draws the bootstrap samples and the models' ``random_state`` (documented scheme in the
        module docstring), so the values are reproducible.

    Returns
    -------
    numpy.ndarray
        ``N`` values in ``[0, 1]`` (or ``NaN``), high = the item agrees with the rest.
    """
    x = as_features(x_train, "x_train")
    n = len(x)
    codes = _label_codes(as_labels(y_train, n, "y_train"))
    if estimator is None:
        from sklearn.tree import DecisionTreeClassifier

        estimator = DecisionTreeClassifier()
    base = as_classifier(estimator)
    n_models = check_count(n_estimators, "n_estimators")
    m = _sample_size(max_samples, n)
    rng = as_rng(seed)
    correct = np.zeros(n)
    out_of_bag = np.zeros(n, dtype=np.int64)
    for _ in range(n_models):
        rows = rng.integers(0, n, m)
        model = with_random_state(base, int(rng.integers(2**31 - 1)))
        oob = np.flatnonzero(np.bincount(rows, minlength=n) == 0)
        if len(oob) == 0:
            continue
        pred = fit_predict(model, x[rows], codes[rows], x[oob])
        correct[oob] += pred == codes[oob]
        out_of_bag[oob] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        values: np.ndarray = np.where(out_of_bag > 0, correct / out_of_bag, np.nan)
    return values
