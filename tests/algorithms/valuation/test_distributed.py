"""The Dask backend: the same values as the serial path, whatever the sharding.

One ``LocalCluster`` of two single-threaded worker processes serves the whole module (it is
slow to start).
"""

from __future__ import annotations

import numpy as np
import pytest

from datacoop.algorithms.valuation.knn import knn_banzhaf, knn_shapley, soft_knn_shapley
from datacoop.errors import InvalidData

distributed = pytest.importorskip("distributed")

FUNCS = {"shapley": knn_shapley, "soft": soft_knn_shapley, "banzhaf": knn_banzhaf}


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    with cluster, distributed.Client(cluster) as c:
        yield c


def data(n, n_test, seed, grid=False):
    rng = np.random.default_rng(seed)
    if grid:  # exact distance ties everywhere
        x = rng.integers(0, 4, (n, 3)).astype(float)
        xt = rng.integers(0, 4, (n_test, 3)).astype(float)
    else:
        x, xt = rng.normal(size=(n, 3)), rng.normal(size=(n_test, 3))
    y, yt = rng.integers(0, 4, n), rng.integers(0, 4, n_test)
    y[:2] = [0, 1]
    return x, y, xt, yt


@pytest.mark.parametrize("game", ["shapley", "soft", "banzhaf"])
@pytest.mark.parametrize(("n", "n_test", "grid"), [(300, 200, False), (300, 200, True)])
def test_cluster_returns_the_serial_values(client, game, n, n_test, grid):
    x, y, xt, yt = data(n, n_test, seed=n_test, grid=grid)
    f = FUNCS[game]
    serial = f(x, y, xt, yt, k=5, n_jobs=1)
    sharded = f(x, y, xt, yt, k=5, client=client)
    np.testing.assert_allclose(sharded, serial, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(sharded, serial)  # in fact bit for bit


def test_batching_on_the_cluster_changes_nothing(client):
    x, y, xt, yt = data(200, 100, seed=3, grid=True)
    reference = knn_shapley(x, y, xt, yt, k=3, n_jobs=2)
    for batch_size in (1, 7, None):
        got = knn_shapley(x, y, xt, yt, k=3, client=client, batch_size=batch_size)
        np.testing.assert_array_equal(got, reference)


def test_fewer_test_points_than_workers(client):
    x, y, xt, yt = data(50, 1, seed=4)
    np.testing.assert_array_equal(
        knn_shapley(x, y, xt, yt, k=3, client=client), knn_shapley(x, y, xt, yt, k=3)
    )


def test_bad_input_fails_before_reaching_the_cluster(client):
    x, y, xt, yt = data(20, 5, seed=5)
    with pytest.raises(InvalidData, match="k must be"):
        knn_shapley(x, y, xt, yt, k=0, client=client)
    with pytest.raises(InvalidData, match="client must be"):
        knn_shapley(x, y, xt, yt, client="tcp://127.0.0.1:8786")
