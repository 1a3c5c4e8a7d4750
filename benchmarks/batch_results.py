"""Memory while a large Message Batch's results stream out (`python benchmarks/batch_results.py`).

Creates a batch of N requests on an in-process fake, lets it end, then reads the JSONL
results through the SDK's own transport with a streaming response. Reports the results'
size and the extra memory the stream took at its peak (tracemalloc), which should be a
few chunks, not the whole file. Bounded: N requests, one pass.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import httpx

from mockspike import MockSpike

HEADERS = {"x-api-key": "sk-bench", "anthropic-version": "2023-06-01"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=20_000)
    args = parser.parse_args()
    fake = MockSpike(profile="anthropic")
    ask = {"model": "claude-haiku-4-5", "max_tokens": 256}
    requests = [
        {
            "custom_id": f"t{i}",
            "params": {**ask, "messages": [{"role": "user", "content": f"ticket {i}"}]},
        }
        for i in range(args.requests)
    ]
    with httpx.Client(transport=fake.transport(), base_url="http://bench.test") as client:
        started = time.perf_counter()
        batch = client.post("/v1/messages/batches", headers=HEADERS, json={"requests": requests})
        batch_id = batch.json()["id"]
        del requests, batch
        ended = client.get(f"/v1/messages/batches/{batch_id}", headers=HEADERS).json()
        processed = time.perf_counter() - started
        assert ended["request_counts"]["succeeded"] == args.requests, ended

        tracemalloc.start()
        before, _ = tracemalloc.get_traced_memory()
        size = lines = 0
        url = f"/v1/messages/batches/{batch_id}/results"
        with client.stream("GET", url, headers=HEADERS) as response:
            for chunk in response.iter_raw():
                size += len(chunk)
                lines += chunk.count(b"\n")
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert lines == args.requests
    print(f"{args.requests:,} requests answered in {processed:.1f} s")
    print(f"results: {size / 1e6:.1f} MB of JSONL in {lines:,} lines")
    print(f"extra memory at the stream's peak: {(peak - before) / 1e6:.2f} MB")
    print(f"ratio (peak extra / results size): {(peak - before) / size:.3f}")


if __name__ == "__main__":
    main()
