"""The Dask (``dask.distributed``) backend of the KNN valuations.

The training data are scattered to every worker once. The test points are cut into the same
32-point chunks as on one machine, grouped into subtrees of the fixed summation tree (at
least two per worker thread); each task returns its subtree's partial sum vector and the
client adds them along the same tree. So a cluster returns exactly the values of the serial
path, whatever the number of workers or their threads.

``dask`` and ``distributed`` are an optional extra (``pip install datacoop[dask]``) and are
imported only when a client is passed.

Example (not run here: it starts a cluster)::

    from distributed import Client, LocalCluster
    with LocalCluster(n_workers=2, threads_per_worker=1) as cluster, Client(cluster) as client:
        values = knn_shapley(x_train, y_train, x_test, y_test, k=5, client=client)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from datacoop.algorithms.valuation.knn import (
    CHUNK,
    Rule,
    Train,
    combine,
    frontier,
    node_sum,
    rows_of,
    single_threaded_blas,
)
from datacoop.errors import InvalidData

__all__ = ["sharded_sum"]


def sharded_sum(
    client: Any,
    rule: Rule,
    train: Train,
    x_test: npt.NDArray[np.float64],
    y_test: npt.NDArray[np.int64],
    batch: int,
) -> npt.NDArray[np.float64]:
    """Σ over test points of one test point's values, computed on the client's workers."""
    _require_client(client)
    n_threads = max(1, sum(client.nthreads().values()))  # worker threads in the cluster
    n_chunks = -(-len(x_test) // CHUNK)
    nodes = frontier(n_chunks, 2 * n_threads)
    shared = client.scatter(train, broadcast=True, hash=False)
    futures = []
    for node in nodes:
        rows = rows_of(node, len(x_test))
        futures.append(
            client.submit(
                _node_sum,
                rule,
                shared,
                x_test[rows],
                y_test[rows],
                node[0],
                node[1],
                batch,
                pure=False,
            )
        )
    try:
        parts = client.gather(futures)
    finally:
        client.cancel([shared, *futures])
    return combine(0, n_chunks, dict(zip(nodes, parts, strict=True)))


def _node_sum(
    rule: Rule,
    train: Train,
    x_test: npt.NDArray[np.float64],
    y_test: npt.NDArray[np.int64],
    lo: int,
    hi: int,
    batch: int,
) -> npt.NDArray[np.float64]:
    """One task: a subtree of chunks, on one worker thread."""
    with single_threaded_blas():
        return node_sum(rule, train, x_test, y_test, lo, hi, batch)


def _require_client(client: Any) -> None:
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - the extra is installed in the test environment
        raise InvalidData(
            "client= needs the optional Dask extra: pip install 'datacoop[dask]'"
        ) from None
    if not isinstance(client, Client):
        raise InvalidData(f"client must be a distributed.Client, got {type(client).__name__}")
