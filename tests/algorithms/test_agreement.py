"""Agreement coefficients: Krippendorff's alpha, Fleiss' kappa, Cohen's kappa.

Reference values:
* Krippendorff, "Computing Krippendorff's Alpha-Reliability" (2011): section B (2 observers,
  binary, 10 units) alpha = 0.095; section C (4 observers x 12 units with missing values)
  alpha_nominal = 0.743, and for the same data alpha_ordinal = 0.815 and
  alpha_interval = 0.849.
* Wikipedia, "Fleiss' kappa", worked example: 10 subjects, 5 categories, 14 raters,
  kappa = 0.210.
* Cohen's kappa: a 2x2 table worked by hand (p_o = 0.7, p_e = 0.5, kappa = 0.4).
Cross-checks: the ``krippendorff`` package, scikit-learn's ``cohen_kappa_score``,
``statsmodels`` (if installed), and a textbook implementation written here with explicit loops.
"""

from __future__ import annotations

import doctest
import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.metrics import cohen_kappa_score

from datacoop.algorithms import agreement
from datacoop.algorithms.agreement import (
    cohen_kappa,
    coincidence_matrix,
    fleiss_kappa,
    krippendorff_alpha,
)
from datacoop.errors import InvalidData

try:  # the reference implementation (PyPI "krippendorff", in the test extra)
    import krippendorff
except ImportError:  # pragma: no cover
    krippendorff = None
needs_krippendorff = pytest.mark.skipif(krippendorff is None, reason="krippendorff not installed")

nan = np.nan
LEVELS = ["nominal", "ordinal", "interval"]

# Krippendorff (2011), section C: observers A-D (rows) x units 1-12 (columns).
PAPER_C = np.array(
    [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
        [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan],
    ]
)
PAPER_C_ALPHA = {"nominal": 0.743, "ordinal": 0.815, "interval": 0.849}

# Krippendorff (2011), section B: two observers, binary values, 10 units, no missing data.
PAPER_B = [[0, 1, 0, 0, 0, 0, 0, 0, 1, 0], [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]]

# Wikipedia, "Fleiss' kappa", worked example: 10 subjects x 5 categories, 14 raters each.
WIKI_FLEISS = np.array(
    [
        [0, 0, 0, 0, 14],
        [0, 2, 6, 4, 2],
        [0, 0, 3, 5, 6],
        [0, 3, 9, 2, 0],
        [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0],
        [3, 2, 6, 3, 0],
        [2, 5, 3, 2, 2],
        [6, 5, 2, 1, 0],
        [0, 2, 2, 3, 7],
    ]
)


def to_long(matrix: np.ndarray) -> pd.DataFrame:
    rows = [
        (f"u{j}", f"c{i}", matrix[i, j])
        for i in range(matrix.shape[0])
        for j in range(matrix.shape[1])
        if not pd.isna(matrix[i, j])
    ]
    return pd.DataFrame(rows, columns=["task", "worker", "label"])


def textbook_alpha(matrix: np.ndarray, level: str) -> float:
    """Krippendorff (2011) step by step: coincidence matrix with loops, then the delta^2 sums."""
    units = [[v for v in matrix[:, j] if not pd.isna(v)] for j in range(matrix.shape[1])]
    units = [u for u in units if len(u) >= 2]
    values = sorted({v for u in units for v in u})
    index = {v: i for i, v in enumerate(values)}
    o = np.zeros((len(values), len(values)))
    for u in units:
        for i, j in itertools.permutations(range(len(u)), 2):
            o[index[u[i]], index[u[j]]] += 1 / (len(u) - 1)
    n_c = o.sum(axis=1)
    n = n_c.sum()

    def delta2(c: int, k: int) -> float:
        if level == "nominal":
            return float(c != k)
        if level == "interval":
            return float((values[c] - values[k]) ** 2)
        lo, hi = min(c, k), max(c, k)
        return float((n_c[lo : hi + 1].sum() - (n_c[c] + n_c[k]) / 2) ** 2)

    d = np.array([[delta2(c, k) for k in range(len(values))] for c in range(len(values))])
    return float(1 - (n - 1) * np.sum(o * d) / np.sum(np.outer(n_c, n_c) * d))


def test_module_docstring_examples_run() -> None:
    result = doctest.testmod(agreement, raise_on_error=False)
    assert result.attempted >= 8 and result.failed == 0


# ---------------------------------------------------------- Krippendorff: published values
@pytest.mark.parametrize("level", LEVELS)
def test_krippendorff_2011_section_c(level: str) -> None:
    value = krippendorff_alpha(PAPER_C, level)
    assert round(value, 3) == PAPER_C_ALPHA[level]
    assert value == pytest.approx(textbook_alpha(PAPER_C, level), abs=1e-12)


@needs_krippendorff
@pytest.mark.parametrize("level", LEVELS)
def test_krippendorff_2011_section_c_matches_package(level: str) -> None:
    expected = krippendorff.alpha(reliability_data=PAPER_C, level_of_measurement=level)
    assert krippendorff_alpha(PAPER_C, level) == pytest.approx(expected, abs=1e-12)


def test_krippendorff_2011_section_b() -> None:
    assert round(krippendorff_alpha(PAPER_B), 3) == 0.095


@pytest.mark.parametrize("level", LEVELS)
def test_all_input_shapes_agree(level: str) -> None:
    expected = krippendorff_alpha(PAPER_C, level)
    as_lists = [[None if pd.isna(v) else int(v) for v in row] for row in PAPER_C]
    frame_matrix = pd.DataFrame(PAPER_C, index=list("ABCD"))
    long = to_long(PAPER_C)
    for data in (as_lists, frame_matrix, long, long.sample(frac=1.0, random_state=3)):
        assert krippendorff_alpha(data, level) == pytest.approx(expected, abs=1e-12)


def test_long_frame_ignores_missing_labels_and_extra_columns() -> None:
    long = to_long(PAPER_C)
    extra = pd.concat([long, pd.DataFrame({"task": ["u0"], "worker": ["c9"], "label": [None]})])
    extra["note"] = "x"
    assert krippendorff_alpha(extra) == pytest.approx(krippendorff_alpha(PAPER_C), abs=1e-12)


def test_text_values_nominal_and_ordinal() -> None:
    letters = np.vectorize(lambda v: None if pd.isna(v) else "abcde"[int(v) - 1], otypes=[object])(
        PAPER_C
    )
    assert krippendorff_alpha(letters) == pytest.approx(krippendorff_alpha(PAPER_C), abs=1e-12)
    assert krippendorff_alpha(letters, "ordinal") == pytest.approx(
        krippendorff_alpha(PAPER_C, "ordinal"), abs=1e-12
    )


def test_coincidence_matrix_of_section_c() -> None:
    o = coincidence_matrix(PAPER_C)
    assert list(o.index) == [1.0, 2.0, 3.0, 4.0, 5.0]
    np.testing.assert_allclose(o.to_numpy(), o.to_numpy().T)
    assert o.to_numpy().sum() == pytest.approx(40)  # 40 pairable values (unit 12 has one value)
    # Alpha from the matrix, by the textbook nominal formula, is the published 0.743.
    arr, n_c = o.to_numpy(), o.to_numpy().sum(axis=1)
    n = n_c.sum()
    alpha = 1 - (n - 1) * (n - np.trace(arr)) / (n * n - n_c @ n_c)
    assert round(alpha, 3) == 0.743


# ------------------------------------------------------------ Krippendorff: cross-checks
reliability_matrices = hnp.arrays(
    dtype=float,
    shape=st.tuples(st.integers(2, 6), st.integers(2, 15)),
    elements=st.sampled_from([1.0, 2.0, 3.0, 4.0, 5.0, 7.5, nan, nan]),
)


def alpha_is_defined(matrix: np.ndarray) -> bool:
    counts = (~np.isnan(matrix)).sum(axis=0)
    pairable = matrix[:, counts >= 2]
    values = pairable[~np.isnan(pairable)]
    return int((counts >= 2).sum()) >= 2 and len(np.unique(values)) >= 2


@needs_krippendorff
@settings(max_examples=200, deadline=None)
@given(reliability_matrices, st.sampled_from(LEVELS))
def test_matches_krippendorff_package(matrix: np.ndarray, level: str) -> None:
    assume(alpha_is_defined(matrix))
    expected = krippendorff.alpha(reliability_data=matrix, level_of_measurement=level)
    assert krippendorff_alpha(matrix, level) == pytest.approx(expected, abs=1e-9)


@needs_krippendorff
@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("seed", range(3))
def test_matches_krippendorff_package_on_large_random_data(level: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    truth = rng.normal(50, 20, 400)  # 12 coders x 400 units, 40% missing
    matrix = np.round(truth + rng.normal(0, 8, (12, 400)))  # ~150 distinct values
    if level == "nominal":
        matrix = np.round(matrix / 10)
    matrix[rng.random(matrix.shape) < 0.4] = nan
    expected = krippendorff.alpha(reliability_data=matrix, level_of_measurement=level)
    assert krippendorff_alpha(matrix, level) == pytest.approx(expected, abs=1e-9)
    assert krippendorff_alpha(to_long(matrix), level) == pytest.approx(expected, abs=1e-9)


@needs_krippendorff
def test_matches_krippendorff_package_on_continuous_interval_data() -> None:
    rng = np.random.default_rng(42)
    matrix = rng.normal(1e3, 1.0, 60) + rng.normal(0, 0.5, (8, 60))  # large mean, small spread
    matrix[rng.random(matrix.shape) < 0.3] = nan
    expected = krippendorff.alpha(reliability_data=matrix, level_of_measurement="interval")
    assert krippendorff_alpha(matrix, "interval") == pytest.approx(expected, abs=1e-9)


@settings(max_examples=100, deadline=None)
@given(reliability_matrices, st.sampled_from(LEVELS))
def test_matches_textbook_loops(matrix: np.ndarray, level: str) -> None:
    assume(alpha_is_defined(matrix))
    assert krippendorff_alpha(matrix, level) == pytest.approx(
        textbook_alpha(matrix, level), abs=1e-9
    )


@settings(max_examples=100, deadline=None)
@given(reliability_matrices, st.sampled_from(LEVELS), st.randoms(use_true_random=False))
def test_alpha_invariances(matrix: np.ndarray, level: str, rnd: object) -> None:
    assume(alpha_is_defined(matrix))
    value = krippendorff_alpha(matrix, level)
    coders = list(range(matrix.shape[0]))
    units = list(range(matrix.shape[1]))
    rnd.shuffle(coders)  # type: ignore[attr-defined]
    rnd.shuffle(units)  # type: ignore[attr-defined]
    assert krippendorff_alpha(matrix[coders][:, units], level) == pytest.approx(value, abs=1e-12)
    if level == "interval":  # affine maps keep interval differences' ratios
        assert krippendorff_alpha(-3.0 * matrix + 11.0, level) == pytest.approx(value, abs=1e-9)
    if level == "ordinal":  # only the order matters
        assert krippendorff_alpha(np.exp(matrix), level) == pytest.approx(value, abs=1e-12)
    assert value <= 1.0 + 1e-12


@pytest.mark.parametrize("level", LEVELS)
def test_perfect_agreement_is_one(level: str) -> None:
    data = [[1, 2, 3, nan], [1, 2, 3, 4], [nan, 2, 3, 4]]
    assert krippendorff_alpha(data, level) == pytest.approx(1.0)


# ------------------------------------------------------------- Krippendorff: bad input
@pytest.mark.parametrize(
    ("data", "level", "match"),
    [
        ([], "nominal", "dimension|empty"),
        (np.empty((2, 0)), "nominal", "empty"),
        ([[nan, nan], [nan, nan]], "nominal", "all missing"),
        ([[1, 2, 3], [nan, nan, nan]], "nominal", "no unit has two"),
        ([[1, 2, nan], [2, nan, 3]], "nominal", "only one unit"),
        ([[1, 1, 1], [1, 1, 1]], "nominal", "undefined"),
        ([[4, 4, nan], [4, 4, 2]], "interval", "undefined"),  # the lone 2 is not pairable
        ([1, 2, 3], "nominal", "2-D"),
        ([[1, 2], [1, 2]], "ratio", "level"),
        ([["a", "b"], ["a", "c"]], "interval", "numeric"),
        ([[1, "b"], [1, "c"]], "ordinal", "ordered"),
        ([[1.0, np.inf], [2.0, 3.0]], "interval", "finite"),
        (pd.DataFrame({"task": [], "worker": [], "label": []}), "nominal", "empty"),
        (
            pd.DataFrame(
                {"task": [1, 1, 2, 2], "worker": ["a", "a", "a", "b"], "label": [1, 2, 1, 2]}
            ),
            "nominal",
            "more than once",
        ),
        (
            pd.DataFrame({"task": [1, None], "worker": ["a", "b"], "label": [1, 2]}),
            "nominal",
            "task",
        ),
    ],
)
def test_krippendorff_bad_input(data: object, level: str, match: str) -> None:
    with pytest.raises(InvalidData, match=match):
        krippendorff_alpha(data, level)


# ------------------------------------------------------------------------------ Fleiss
def test_fleiss_wikipedia_example() -> None:
    assert round(fleiss_kappa(WIKI_FLEISS), 3) == 0.210
    assert round(fleiss_kappa(pd.DataFrame(WIKI_FLEISS)), 3) == 0.210


def counts_to_long(counts: np.ndarray) -> pd.DataFrame:
    rows = []
    for t, row in enumerate(counts):
        raters = itertools.count()
        for c, k in enumerate(row):
            rows += [(f"t{t}", f"r{next(raters)}", f"cat{c}") for _ in range(int(k))]
    return pd.DataFrame(rows, columns=["task", "worker", "label"])


def test_fleiss_from_long_frame_equals_counts() -> None:
    assert fleiss_kappa(counts_to_long(WIKI_FLEISS)) == pytest.approx(
        fleiss_kappa(WIKI_FLEISS), abs=1e-12
    )


def test_fleiss_against_statsmodels() -> None:
    irr = pytest.importorskip("statsmodels.stats.inter_rater")
    assert fleiss_kappa(WIKI_FLEISS) == pytest.approx(irr.fleiss_kappa(WIKI_FLEISS), abs=1e-12)


fleiss_tables = st.integers(2, 6).flatmap(
    lambda k: st.integers(2, 7).flatmap(
        lambda raters: st.lists(
            st.lists(st.integers(0, k - 1), min_size=raters, max_size=raters),
            min_size=1,
            max_size=12,
        ).map(lambda tasks: np.array([np.bincount(t, minlength=k) for t in tasks]))
    )
)


@settings(max_examples=150, deadline=None)
@given(fleiss_tables)
def test_fleiss_equals_krippendorff_up_to_small_sample_factor(counts: np.ndarray) -> None:
    """With complete data, alpha_nominal = 1 - (nN - 1)/(nN) (1 - kappa_Fleiss)."""
    assume(np.count_nonzero(counts.sum(axis=0)) >= 2 and counts.shape[0] >= 2)
    kappa = fleiss_kappa(counts)
    long = counts_to_long(counts)
    total = float(counts.sum())
    expected_alpha = 1 - (total - 1) / total * (1 - kappa)
    assert krippendorff_alpha(long) == pytest.approx(expected_alpha, abs=1e-9)
    assert fleiss_kappa(long) == pytest.approx(kappa, abs=1e-12)


def test_fleiss_perfect_agreement() -> None:
    assert fleiss_kappa([[3, 0, 0], [0, 3, 0], [0, 0, 3]]) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ([[2, 1], [1, 1]], "same number of raters.*row 1 has 2"),
        (
            pd.DataFrame(
                {
                    "task": ["x", "x", "y", "y", "z"],
                    "worker": list("ababa"),
                    "label": [1, 1, 2, 2, 1],
                }
            ),
            "same number of raters.*'z' has 1",
        ),
        ([[1, 0], [0, 1]], "at least 2 raters"),
        ([], "dimension|empty"),
        (np.empty((0, 3)), "empty"),
        ([[2, -1], [0, 1]], "non-negative integers"),
        ([[1.5, 0.5], [1, 1]], "non-negative integers"),
        ([[3, 0], [3, 0]], "undefined"),
        ([["a", "b"], ["c", "d"]], "numeric"),
        (
            pd.DataFrame({"task": ["x", "x"], "worker": ["a", "a"], "label": [1, 2]}),
            "more than once",
        ),
        (
            pd.DataFrame({"task": ["x", "x"], "worker": ["a", "b"], "label": [None, None]}),
            "missing",
        ),
    ],
)
def test_fleiss_bad_input(data: object, match: str) -> None:
    with pytest.raises(InvalidData, match=match):
        fleiss_kappa(data)


# ------------------------------------------------------------------------------- Cohen
def test_cohen_hand_computation() -> None:
    # 50 items: both "yes" 20, A yes / B no 5, A no / B yes 10, both "no" 15.
    # p_o = 35/50 = 0.7; A says yes 25/50, B says yes 30/50; p_e = .5*.6 + .5*.4 = 0.5;
    # kappa = (0.7 - 0.5) / (1 - 0.5) = 0.4.
    a = ["yes"] * 25 + ["no"] * 25
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.4, abs=1e-12)
    assert cohen_kappa(pd.Series(a), np.array(b)) == pytest.approx(0.4, abs=1e-12)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 40).flatmap(
        lambda n: st.tuples(
            st.lists(st.sampled_from("abcd"), min_size=n, max_size=n),
            st.lists(st.sampled_from("abcd"), min_size=n, max_size=n),
        )
    )
)
def test_cohen_matches_sklearn(pair: tuple[list[str], list[str]]) -> None:
    a, b = pair
    assume(len(set(a) | set(b)) >= 2)
    expected = cohen_kappa_score(a, b)
    assert cohen_kappa(a, b) == pytest.approx(expected, abs=1e-12)
    assert cohen_kappa(b, a) == pytest.approx(expected, abs=1e-12)
    assert cohen_kappa(a, b, labels=list("abcde")) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    ("a", "b", "labels", "match"),
    [
        ([1, 2], [1], None, "equal lengths"),
        ([], [], None, "empty"),
        ([1, None], [1, 2], None, "missing"),
        (["x", "x"], ["x", "x"], None, "undefined"),
        (["x", "y"], ["x", "z"], ["x", "y"], "not in labels"),
        ([[1, 2]], [[1, 2]], None, "1-D"),
    ],
)
def test_cohen_bad_input(a: object, b: object, labels: list[str] | None, match: str) -> None:
    with pytest.raises(InvalidData, match=match):
        cohen_kappa(a, b, labels=labels)


def test_invalid_data_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        krippendorff_alpha([[1, 1], [1, 1]])
