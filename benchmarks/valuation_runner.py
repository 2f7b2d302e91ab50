"""Run one KNN valuation (datacoop, pyDVL or OpenDataVal) on arrays in a folder (bench-only helper).

``valuation.py`` runs this script with the interpreter of the library it measures: datacoop's
own venv for ``datacoop``, the isolated venvs under ``.bench-venvs/`` for ``pydvl`` and
``opendataval`` (they need numpy < 2 and an old transformers; neither is a dependency of
datacoop). Every library goes through the same protocol, so times and memory compare fairly:

    PYTHON benchmarks/valuation_runner.py LIBRARY METHOD DIR [--k 5] [--repeat 3]

``DIR`` holds ``x_train.npy``, ``y_train.npy`` (integer labels), ``x_test.npy``, ``y_test.npy``.
``LIBRARY`` is ``datacoop``, ``pydvl`` or ``opendataval``; ``METHOD`` is ``knn_shapley`` (all
three) or, for datacoop only, ``soft_knn_shapley`` / ``knn_banzhaf``. The values (float64, one
per training item, in input order) go to ``DIR/values-LIBRARY-METHOD.npy``; one JSON line on
stdout reports

* ``seconds`` / ``cpu_seconds``: wall and CPU time (all threads) of the valuation call alone,
  the median over the runs made; ``runs``: every run's wall time. Interpreter start, imports,
  reading the arrays and wrapping them in the library's own types are excluded. A run is
  repeated (up to ``--repeat``) only while the runs so far took under ``--repeat-below`` s;
* ``peak_rss_mb``: the peak resident set of this process (``VmHWM``; imports and input
  arrays included); ``rss_before_mb``: its resident set just before the first call;
* ``import_seconds`` and the versions of the library, numpy (and torch / scikit-learn);

or ``{"error": ...}``. Exit status 0 in both cases, 1 on bad usage. Standard library + numpy
at import time; the library is imported only for its own run.

pyDVL 0.10.0: ``KNNShapleyValuation(KNeighborsClassifier(k), Dataset(x_test, y_test),
progress=False).fit(Dataset(x_train, y_train))`` with joblib's default (one worker).
OpenDataVal 1.3.0: ``KNNShapley(k_neighbors=k).input_data(...).train_data_values()`` with
float32 tensors and one-hot float32 labels, as its ``DataFetcher`` makes them, and its default
``batch_size`` (32) for the distance blocks. OpenDataVal's package ``__init__`` imports its
image datasets, hence torchvision; torchvision wheels on PyPI are built against the CUDA
torch and fail to load with the CPU torch 2.13.0, so torchvision is not installed and
:func:`_torchvision_placeholder` puts an empty stand-in in ``sys.modules`` (the KNN-Shapley
path never touches it; an image data set would fail loudly on the placeholder classes).
"""

from __future__ import annotations

import argparse
import importlib.machinery
import json
import os
import resource
import statistics
import sys
import time
import types
from collections.abc import Callable
from typing import Any

import numpy as np

LIBRARIES = ("datacoop", "pydvl", "opendataval")
DATACOOP_METHODS = ("knn_shapley", "soft_knn_shapley", "knn_banzhaf")


def _status_mb(field: str) -> float | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024.0  # kB
    except OSError:
        pass
    return None


def peak_rss_mb() -> float:
    """Peak resident set of this process image (``VmHWM``).

    Not ``getrusage(RUSAGE_SELF).ru_maxrss``: Linux carries the parent's peak across fork and
    exec into it, so a child of a big parent would report the parent's size.
    """
    hwm = _status_mb("VmHWM")
    return hwm if hwm is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    return _status_mb("VmRSS") or 0.0


def _torchvision_placeholder() -> None:
    """Empty ``torchvision`` modules, so ``import opendataval.dataval`` works without it."""

    def module(name: str) -> types.ModuleType:
        mod = types.ModuleType(name)
        mod.__spec__ = importlib.machinery.ModuleSpec(name, None, is_package=True)
        mod.__path__ = []

        def __getattr__(attr: str) -> Any:
            if attr.startswith("__"):
                raise AttributeError(attr)
            return type(attr, (), {"__module__": name})  # placeholder class, never used

        mod.__getattr__ = __getattr__  # type: ignore[method-assign]
        sys.modules[name] = mod
        return mod

    root = module("torchvision")
    root.transforms = module("torchvision.transforms")
    root.transforms.functional = module("torchvision.transforms.functional")
    root.datasets = module("torchvision.datasets")


# Each preparer imports its library, wraps the arrays (not timed) and returns the timed call.


def prepare_datacoop(method: str, xtr: Any, ytr: Any, xte: Any, yte: Any, k: int
                     ) -> tuple[Callable[[], np.ndarray], dict[str, str]]:
    from datacoop.algorithms.valuation import knn

    fn = getattr(knn, method)
    return (lambda: np.asarray(fn(xtr, ytr, xte, yte, k), dtype=np.float64),
            {"numpy": np.__version__})


def prepare_pydvl(method: str, xtr: Any, ytr: Any, xte: Any, yte: Any, k: int
                  ) -> tuple[Callable[[], np.ndarray], dict[str, str]]:
    import warnings

    warnings.simplefilter("ignore", FutureWarning)  # pyDeprecate noise at import
    import pydvl
    import sklearn
    from pydvl.valuation.dataset import Dataset
    from pydvl.valuation.methods.knn_shapley import KNNShapleyValuation
    from sklearn.neighbors import KNeighborsClassifier

    train, test = Dataset(xtr, ytr), Dataset(xte, yte)

    def call() -> np.ndarray:
        valuation = KNNShapleyValuation(KNeighborsClassifier(n_neighbors=k), test,
                                        progress=False)
        result = valuation.fit(train).result
        out = np.empty(len(ytr))
        out[np.asarray(result.indices, dtype=np.int64)] = result.values
        return out

    return call, {"pydvl": pydvl.__version__, "numpy": np.__version__,
                  "scikit-learn": sklearn.__version__}


def prepare_opendataval(method: str, xtr: Any, ytr: Any, xte: Any, yte: Any, k: int
                        ) -> tuple[Callable[[], np.ndarray], dict[str, str]]:
    import warnings

    warnings.simplefilter("ignore", FutureWarning)  # transformers 4.35 on torch 2.13
    try:
        import torchvision  # noqa: F401
    except Exception:  # not installed, or the CUDA build that cannot load: see docstring
        _torchvision_placeholder()
    import opendataval
    import torch
    from opendataval.dataval.knnshap import KNNShapley

    n_classes = int(max(ytr.max(), yte.max())) + 1
    eye = torch.eye(n_classes, dtype=torch.float32)
    x_train, x_valid = (torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))
                        for a in (xtr, xte))
    y_train, y_valid = eye[torch.from_numpy(ytr)], eye[torch.from_numpy(yte)]

    def call() -> np.ndarray:
        ev = KNNShapley(k_neighbors=k).input_data(x_train, y_train, x_valid, y_valid)
        ev.train_data_values()
        return np.asarray(ev.evaluate_data_values(), dtype=np.float64)

    return call, {"opendataval": opendataval.__version__, "numpy": np.__version__,
                  "torch": torch.__version__}


PREPARERS = {"datacoop": prepare_datacoop, "pydvl": prepare_pydvl,
             "opendataval": prepare_opendataval}


def run(library: str, method: str, folder: str, k: int, repeat: int,
        repeat_below: float) -> dict[str, Any]:
    out: dict[str, Any] = {"library": library, "method": method}
    if library != "datacoop" and method != "knn_shapley":
        out["error"] = f"{library}: only knn_shapley is measured"
        return out
    xtr, ytr, xte, yte = (np.load(os.path.join(folder, f"{n}.npy"))
                          for n in ("x_train", "y_train", "x_test", "y_test"))
    ytr, yte = ytr.astype(np.int64), yte.astype(np.int64)
    try:
        t0 = time.perf_counter()
        call, versions = PREPARERS[library](method, xtr, ytr, xte, yte, k)
        out["import_seconds"] = time.perf_counter() - t0
        out["versions"] = versions
        out["rss_before_mb"] = current_rss_mb()
        walls, cpus = [], []
        while True:
            c0, t0 = time.process_time(), time.perf_counter()
            values = call()
            walls.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
            if len(walls) >= repeat or sum(walls) >= repeat_below:
                break
    except Exception as exc:  # report, do not crash: the caller prints it in the table
        msg = str(exc).splitlines()[0][:300] if str(exc) else ""
        out["error"] = f"{type(exc).__name__}: {msg}"
        return out
    out.update(seconds=statistics.median(walls), cpu_seconds=statistics.median(cpus),
               runs=walls, peak_rss_mb=peak_rss_mb(), n_train=len(ytr), n_test=len(yte))
    np.save(os.path.join(folder, f"values-{library}-{method}.npy"), values)
    return out


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("library", choices=LIBRARIES)
    ap.add_argument("method", choices=DATACOOP_METHODS)
    ap.add_argument("folder")
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=1, help="at most this many runs")
    ap.add_argument("--repeat-below", type=float, default=10.0,
                    help="repeat only while the runs so far took under this many seconds")
    a = ap.parse_args(argv)
    print(json.dumps(run(a.library, a.method, a.folder, a.k, a.repeat, a.repeat_below)),
          flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
