"""Fit one crowd-kit aggregator on one dataset and print the result as JSON (bench-only helper).

Runs INSIDE the separate crowd-kit venv (``.venv-crowdkit/``, made by ``aggregation.py``),
never in datacoop's own venv: crowd-kit 1.4.2 needs pandas < 3 and is not a dependency of
datacoop. Standard library + crowd-kit + pandas only; it does not import datacoop.

    .venv-crowdkit/bin/python benchmarks/crowdkit_runner.py DATASET_DIR METHOD

``DATASET_DIR`` holds ``labels.csv`` (or ``labels.csv.gz``) with header ``task,worker,label``;
every value is read as a string, exactly as ``run_crowdkit_baseline.py`` does. ``METHOD`` is a
crowd-kit class name (``DawidSkene``) or the short name used by the benchmark (``DS``).
Prints one line: ``{"method", "dataset", "seconds", "cpu_seconds", "labels": {task: label}}``
where ``seconds`` is the wall time of ``fit_predict`` alone (no reading, no import) and
``cpu_seconds`` its CPU time (all threads of the process), plus ``n_iter`` (the length of
``loss_history_``) for the iterative models, or
``{"method", "dataset", "error": ...}``; the exit status is 0 in both cases (1 on bad usage).
"""

from __future__ import annotations

import json
import os
import sys
import time

ALIASES = {
    "MV": "MajorityVote",
    "ZBS": "ZeroBasedSkill",
    "OneCoinDS": "OneCoinDawidSkene",
    "DS": "DawidSkene",
}


def run(dataset_dir: str, method: str) -> dict[str, object]:
    name = os.path.basename(os.path.normpath(dataset_dir))
    cls_name = ALIASES.get(method, method)
    out: dict[str, object] = {"method": method, "dataset": name}
    try:
        import crowdkit
        import crowdkit.aggregation as agg
        import pandas as pd

        out["crowdkit_version"] = getattr(crowdkit, "__version__", "?")
        out["pandas_version"] = pd.__version__
        path = os.path.join(dataset_dir, "labels.csv")
        if not os.path.exists(path):
            path += ".gz"
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
        cls = getattr(agg, cls_name, None)
        if cls is None:
            out["error"] = f"crowd-kit has no aggregator {cls_name!r}"
            return out
        if cls_name == "KOS" and df["label"].nunique() != 2:
            out["error"] = "KOS is binary-only"
            return out
        model = cls()
        c0, t0 = time.process_time(), time.perf_counter()
        pred = model.fit_predict(df)
        out["seconds"] = time.perf_counter() - t0
        out["cpu_seconds"] = time.process_time() - c0
        history = getattr(model, "loss_history_", None)
        if history is not None:  # EM-style models: one entry per iteration run
            out["n_iter"] = len(history)
        out["labels"] = {str(k): str(v) for k, v in pred.items()}
    except Exception as exc:  # report, do not crash: the caller prints it in the table
        msg = str(exc).splitlines()[0][:300] if str(exc) else ""
        out["error"] = f"{type(exc).__name__}: {msg}"
    return out


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 1
    print(json.dumps(run(argv[0], argv[1])))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
