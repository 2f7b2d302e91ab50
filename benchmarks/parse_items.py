"""Time ``datacoop.projects.importing.iter_items`` on 100,000 items per format.

Run: ``.venv/bin/python benchmarks/parse_items.py [N]``. The target for a whole import
(parse + database insert) is 100k items in under 10 s; parsing alone should stay well
under 2 s per format.
"""

from __future__ import annotations

import csv
import io
import json
import sys
import time

from datacoop.projects.importing import iter_items


def make_items(n: int) -> list[dict]:
    return [
        {
            "id": f"item-{i}",
            "text": f'Review {i}: the product arrived, "quite" good, would buy again. ✓ ' * 2,
            "source": "shop" if i % 2 else "forum",
            "gold": "yes" if i % 10 == 0 else "",
        }
        for i in range(n)
    ]


def as_csv(items: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["id", "text", "source", "gold"])
    writer.writeheader()
    writer.writerows(items)
    return out.getvalue().encode()


def as_jsonl(items: list[dict]) -> bytes:
    lines = (
        json.dumps(
            {
                "id": it["id"],
                "data": {"text": it["text"], "source": it["source"]},
                **({"gold": it["gold"]} if it["gold"] else {}),
            },
            ensure_ascii=False,
        )
        for it in items
    )
    return ("\n".join(lines) + "\n").encode()


def as_labelstudio(items: list[dict]) -> bytes:
    tasks = [
        {
            "id": i,
            "data": {"text": it["text"], "source": it["source"]},
            "annotations": [],
            **({"gold": it["gold"]} if it["gold"] else {}),
        }
        for i, it in enumerate(items, 1)
    ]
    return json.dumps(tasks, indent=2, ensure_ascii=False).encode()


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    items = make_items(n)
    print(f"{'format':<12} {'items':>8} {'MB':>7} {'seconds':>8} {'items/s':>10}")
    for fmt, build in (("csv", as_csv), ("jsonl", as_jsonl), ("labelstudio", as_labelstudio)):
        payload = build(items)
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            count = sum(1 for _ in iter_items(io.BytesIO(payload), fmt))
            best = min(best, time.perf_counter() - start)
        assert count == n, (fmt, count)
        print(
            f"{fmt:<12} {count:>8} {len(payload) / 1e6:>7.1f} {best:>8.3f} {count / best:>10,.0f}"
        )


if __name__ == "__main__":
    main()
