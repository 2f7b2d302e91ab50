"""The piece-rate rise: when a project's median active time per submission exceeds its
estimate, the piece rate rises for new work and each worker's past pieces are topped up to it
at settlement; settling again posts nothing."""

from __future__ import annotations

import doctest

from datacoop.pay import rules


def test_the_rules_docstrings_hold():
    assert doctest.testmod(rules).failed == 0


def test_risen_rate_is_pay_times_median_over_estimate_rounded_up():
    assert rules.risen_piece_rate(100, 60, [60_000, 180_000, 180_000]) == 300
    assert rules.risen_piece_rate(100, 60, [60_000, 90_000]) == 125  # median 75 s
    assert rules.risen_piece_rate(7, 60, [61_000]) == 8  # 7.12 rounds up
    assert rules.risen_piece_rate(0, 60, [600_000]) == 0
    assert rules.risen_piece_rate(100, 60, [1, 2, 60_000]) == 100  # under the estimate
    assert rules.top_up(1500, 240_000, 200, at_rate=600) == 400
    assert rules.top_up(1500, 240_000, 600, at_rate=600) == 0


def _work(client, clock, headers, pid, seconds):
    aid = client.post(f"/api/v1/projects/{pid}/next", headers=headers).json()["assignment_id"]
    for _ in range(seconds // 10):
        clock.advance(10)
        client.post(f"/api/v1/assignments/{aid}/heartbeat", headers=headers)
    r = client.post(
        "/api/v1/submissions", headers=headers, json={"assignment_id": aid, "answer": "red"}
    )
    assert r.status_code == 201, r.text


def _paid(client, headers, pid):
    s = client.get(f"/api/v1/projects/{pid}/pay/statement/me", headers=headers).json()
    return s["piece_pay"]["amount"], s["top_ups"]["amount"]


def test_past_work_is_topped_up_to_the_risen_rate_per_worker(client, api, clock):
    # 1.00 a piece, estimated at 60 s: well above the 15.00/h floor (0.25 a minute).
    req = api.user("requester")
    project = api.project(req, pay_per_item=100, estimated_seconds=60, overlap=2)
    pid = project["id"]
    api.items(req, pid, "id,text\n" + "".join(f"i{i},thing {i}\n" for i in range(3)))
    client.post(f"/api/v1/projects/{pid}/pay/fund", headers=req, json={"amount": "30.00"})
    assert client.post(f"/api/v1/projects/{pid}/pay/launch", headers=req).status_code == 200
    a, b = api.user(), api.user()

    _work(client, clock, a, pid, 60)  # at the estimate: no rise
    body = client.post(f"/api/v1/projects/{pid}/pay/settle", headers=req).json()
    assert body["piece_total"]["amount"] == 100 and body["top_up_total"]["amount"] == 0
    assert _paid(client, a, pid) == (100, 0)

    _work(client, clock, a, pid, 180)
    _work(client, clock, b, pid, 180)
    # Median of 60, 180, 180 s is 180 s: three times the estimate, so 3.00 a piece. A's two
    # pieces are owed 6.00 (paid 2.00: top-up 4.00); B's one 3.00 (paid 1.00: top-up 2.00).
    body = client.post(f"/api/v1/projects/{pid}/pay/settle", headers=req).json()
    assert body["piece_total"]["amount"] == 200 and body["top_up_total"]["amount"] == 600
    assert _paid(client, a, pid) == (200, 400)
    assert _paid(client, b, pid) == (100, 200)
    again = client.post(f"/api/v1/projects/{pid}/pay/settle", headers=req).json()
    assert again["postings"] == [] and again["members"] == []
    cost = client.get(f"/api/v1/projects/{pid}/pay/statement", headers=req).json()
    assert cost["piece_pay"]["amount"] + cost["top_ups"]["amount"] == 900
