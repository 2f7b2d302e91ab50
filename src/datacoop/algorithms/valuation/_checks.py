"""Input checks shared by the valuation functions.

Every check raises :class:`datacoop.errors.InvalidData` (a ``ValueError``) naming the
problem, so bad input never turns into a silent wrong number.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from datacoop.errors import InvalidData


def as_features(x: Any, name: str) -> np.ndarray:
    """A finite float64 matrix (n × d); a 1-D array is read as n items with one feature."""
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidData(f"{name} must be numeric: {exc}") from None
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise InvalidData(f"{name} must be a 2-D array (items × features), got {arr.ndim}-D")
    if arr.shape[0] == 0:
        raise InvalidData(f"{name} is empty")
    if arr.shape[1] == 0:
        raise InvalidData(f"{name} has no features")
    if not np.isfinite(arr).all():
        raise InvalidData(f"{name} contains NaN or infinite values")
    return arr


def as_labels(y: Any, n: int, name: str) -> np.ndarray:
    """A 1-D label array of length ``n`` with no missing values."""
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise InvalidData(f"{name} must be 1-D, got shape {arr.shape}")
    if len(arr) != n:
        raise InvalidData(f"{name} has {len(arr)} labels for {n} items")
    if arr.dtype.kind == "f" and np.isnan(arr).any():
        raise InvalidData(f"{name} contains NaN labels")
    if arr.dtype == object and any(v is None or v != v for v in arr):
        raise InvalidData(f"{name} contains missing labels")
    return arr


def check_k(k: Any) -> int:
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise InvalidData(f"k must be an integer >= 1, got {k!r}")
    return int(k)


def train_test(
    x_train: Any, y_train: Any, x_test: Any, y_test: Any, *, need_two_classes: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Check a train/test split; labels are re-coded to integers over their union.

    Returns ``(x_train, y_train_codes, x_test, y_test_codes)``. Raises when lengths do not
    match, features are NaN/inf, feature counts differ, a set is empty, label types are
    mixed, or (with ``need_two_classes``) the training labels hold a single class, where
    every valuation is 0 and almost certainly not what the caller meant.
    """
    xtr = as_features(x_train, "x_train")
    xte = as_features(x_test, "x_test")
    if xtr.shape[1] != xte.shape[1]:
        raise InvalidData(f"x_train has {xtr.shape[1]} features but x_test has {xte.shape[1]}")
    ytr = as_labels(y_train, xtr.shape[0], "y_train")
    yte = as_labels(y_test, xte.shape[0], "y_test")
    try:
        classes, codes = np.unique(np.concatenate([ytr, yte]), return_inverse=True)
    except TypeError:
        raise InvalidData(
            "labels mix types that cannot be compared (e.g. numbers and text)"
        ) from None
    codes = codes.astype(np.int64)
    if need_two_classes and len(np.unique(codes[: len(ytr)])) < 2:
        raise InvalidData("y_train holds a single class: every value would be 0")
    del classes
    return xtr, codes[: len(ytr)], xte, codes[len(ytr) :]


def as_owners(owners: Any, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Owner of each item → ``(unique owners sorted, code per item)``."""
    arr = np.asarray(owners)
    if arr.ndim != 1 or len(arr) != n:
        raise InvalidData(
            f"owners must be 1-D with one entry per item ({n}), got shape {arr.shape}"
        )
    if arr.dtype.kind == "f" and np.isnan(arr).any():
        raise InvalidData("owners contains NaN")
    if arr.dtype == object and any(v is None for v in arr):
        raise InvalidData("owners contains missing values")
    try:
        uniques, codes = np.unique(arr, return_inverse=True)
    except TypeError:
        raise InvalidData("owners mixes types that cannot be compared") from None
    return uniques, codes.astype(np.int64)


def as_rng(seed: Any) -> np.random.Generator:
    """``seed`` as a NumPy generator: a non-negative int (re-runnable) or a ``Generator``."""
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise InvalidData(f"seed must be a non-negative integer or a Generator, got {seed!r}")
    return np.random.default_rng(int(seed))


def check_count(value: Any, name: str, minimum: int = 1) -> int:
    """An integer ``>= minimum`` (a count of models, permutations, ...)."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise InvalidData(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def as_classifier(estimator: Any) -> Any:
    """An unfitted copy of a scikit-learn style classifier (``fit`` and ``predict``)."""
    from sklearn.base import clone

    if not (
        callable(getattr(estimator, "fit", None)) and callable(getattr(estimator, "predict", None))
    ):
        raise InvalidData(
            f"estimator must have fit and predict methods, got {type(estimator).__name__}"
        )
    try:
        return clone(estimator)
    except TypeError as exc:
        raise InvalidData(f"estimator cannot be cloned: {exc}") from None


def with_random_state(estimator: Any, random_state: int) -> Any:
    """An unfitted copy with every ``random_state`` parameter (nested ones too) set.

    As scikit-learn's bagging does, so that refits are reproducible from one seed.
    """
    from sklearn.base import clone

    model = clone(estimator)
    keys = [
        key
        for key in model.get_params(deep=True)
        if key == "random_state" or key.endswith("__random_state")
    ]
    if keys:
        model.set_params(**dict.fromkeys(keys, random_state))
    return model


def fit_predict(model: Any, x_fit: np.ndarray, y_fit: np.ndarray, x_pred: np.ndarray) -> np.ndarray:
    """Fit ``model`` (unfitted, used up) and predict; one class seen → predict that class.

    Many classifiers refuse to fit on a single class; the constant prediction is what any of
    them would learn from such data, and it keeps set utilities defined for every subset.
    """
    classes = np.unique(y_fit)
    if len(classes) == 1:
        return np.full(len(x_pred), classes[0], dtype=y_fit.dtype)
    model.fit(x_fit, y_fit)
    return np.asarray(model.predict(x_pred))
