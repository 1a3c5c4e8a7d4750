"""Where the time goes, per stage, on the three workloads (and the synthetic default).

    python benchmarks/profile_engine.py [--calls 2000] [--server --seconds 5]

1. The engine in-process under cProfile: each stage's inclusive share of a request (a
   stream is counted to its last frame), and the engine's cost a request without the
   profiler.
2. `--server`: `mockspike serve` sampled by py-spy while `wrk` loads it, each sample given
   to the innermost layer on its stack: engine, adapter (mockspike/adapters/), Starlette,
   uvicorn's protocol, or the event loop and sockets (uvloop, C).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import servers
import workloads
from workloads import HEADERS, WORKLOADS, Workload

from mockspike import Engine, WireRequest
from mockspike.adapters import delivery
from mockspike.gateway.keys import GatewayConfig
from mockspike.script import files as script_files

STAGES: list[tuple[str, str, str]] = [  # (label, path suffix of the module, function)
    ("parse JSON", "contract/validate.py", "parse_body"),
    ("schema", "contract/validate.py", "_check_schema"),
    ("semantic rules", "contract/rules.py", "check_rules"),
    ("gateway: key", "gateway/limits.py", "authenticate"),
    ("gateway: model", "gateway/limits.py", "check_model"),
    ("gateway: admit", "gateway/limits.py", "admit"),
    ("gateway: settle + headers", "gateway/limits.py", "settle"),
    ("token estimate", "model/tokens.py", "input_tokens"),  # the pipeline's own call
    ("prompt walk (once a request)", "model/tokens.py", "__init__"),
    ("script: match rules", "script/rules.py", "decide"),
    ("request seed", "synthetic/default.py", "request_seed"),
    ("synthetic text", "synthetic/default.py", "synthetic_reply"),
    ("prompt cache", "gateway/cache.py", "use"),
    ("message id", "engine/engine.py", "message_id"),
    ("request id", "engine/engine.py", "new_request_id"),
    ("render message", "render/message.py", "message"),
    ("JSON encode (orjson)", "~", "<built-in method orjson.dumps>"),
    ("SSE events", "render/sse.py", "events"),
    ("SSE frames", "render/sse.py", "frame"),
    ("SSE wire frames (prepared heads)", "render/sse.py", "frames"),
    ("SSE token counts", "render/sse.py", "output_tokens"),
    ("pacing", "model/pacing.py", "next"),
    ("journal", "state/journal.py", "append"),
]


def _engine(synthetic: bool = False) -> Engine:
    """The engine `mockspike serve` runs in the server benchmark: lifted limits, and the
    workloads' script (or none: the synthetic default answers)."""
    engine = Engine(config=GatewayConfig.from_dict(workloads.unlimited_config()))
    if not synthetic:
        script_files.build_rules(workloads.mockspike_script(), engine.new_rule)
    return engine


def _call(engine: Engine, workload: Workload) -> Callable[[], None]:
    request = WireRequest("POST", "/v1/messages", dict(HEADERS), workload.raw)

    def one() -> None:
        answer = engine.handle(request)
        assert answer.status == 200, answer.body
        if answer.stream is not None:
            for _ in delivery.body(answer):  # as the transports and the server send it
                pass

    return one


def engine_profile(name: str, workload: Workload, calls: int, synthetic: bool) -> list[str]:
    engine = _engine(synthetic)
    one = _call(engine, workload)
    for _ in range(min(200, calls)):  # warm up (caches, compiled validators)
        one()
    engine.journal.clear()
    start = time.process_time()
    for _ in range(calls):
        one()
    plain = (time.process_time() - start) / calls * 1e6
    engine.journal.clear()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(calls):
        one()
    profiler.disable()
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    total = next(ct for (f, _, fn), (_, _, _, ct, _) in stats.items() if fn == "one")
    shares = []
    for label, suffix, function in STAGES:
        inclusive = sum(
            _called_from_engine(ct, callers) if function == "input_tokens" else ct
            for (file, _, fn), (_, _, _, ct, callers) in stats.items()
            if fn == function and _is(file, suffix)
        )
        if inclusive:
            shares.append((inclusive / total, label))
    shares.sort(reverse=True)
    covered = sum(s for s, _ in shares)
    parts = ", ".join(f"{label} {share:.0%}" for share, label in shares if share >= 0.01)
    return [
        f"{name}: {plain:,.0f} us of CPU a request in the engine (no profiler); "
        f"{parts}; everything else {1 - covered:.0%}"
    ]


def _called_from_engine(total: float, callers: dict[tuple[str, int, str], tuple]) -> float:
    """The part of a function's inclusive time spent in calls made by the pipeline itself
    (`engine/messages.py`), not by the semantic rules or the cache."""
    return sum(ct for (file, _, _), (*_, ct) in callers.items() if _is(file, "engine/messages.py"))


def _is(file: str, suffix: str) -> bool:
    return file.replace("\\", "/").endswith(suffix)


LAYERS = [  # the adapter first: it is in mockspike/ too
    ("adapter (mockspike/adapters/)", ("mockspike/adapters/",)),
    ("engine", ("mockspike/",)),
    ("Starlette", ("starlette/",)),
    ("uvicorn protocol, socket writes", ("uvicorn/",)),
]


def server_profile(seconds: float) -> list[str]:
    """py-spy samples of `mockspike serve` under wrk, split by innermost layer."""
    if shutil.which("py-spy") is None:
        return ["server profile skipped: py-spy is not installed (pip install py-spy)"]
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        fake = servers.start_mockspike(folder)
        try:
            for workload in WORKLOADS:
                body = folder / "body.json"
                body.write_bytes(workload.raw)
                raw = folder / f"{workload.name}.txt"
                command = ["py-spy", "record", "--pid", str(fake.process.pid), "--rate", "250"]
                command += ["--duration", f"{seconds:g}", "--format", "raw", "--output", str(raw)]
                spy = subprocess.Popen(
                    [*command, "--nonblocking"],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                time.sleep(0.5)
                servers.wrk(fake, workload, body, seconds)
                spy.wait(timeout=seconds + 60)
                lines.append(f"{workload.name}: " + _layers(raw))
        finally:
            fake.stop()
    return lines


def _layers(raw: Path) -> str:
    counts: Counter[str] = Counter()
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        layer = "event loop, sockets (C)"
        for frame in reversed(stack.split(";")):  # leaf first: the innermost layer wins
            found = next((name for name, marks in LAYERS if any(m in frame for m in marks)), None)
            if found is not None:
                layer = found
                break
        counts[layer] += int(count)
    total = sum(counts.values()) or 1
    return ", ".join(f"{k} {v / total:.0%}" for k, v in counts.most_common())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="requests per profile")
    parser.add_argument("--server", action="store_true", help="also profile the live server")
    parser.add_argument("--seconds", type=float, default=5.0, help="wrk run per workload")
    args = parser.parse_args()
    report = [f"machine: {servers.machine()}", "engine, in-process, per stage:"]
    for workload in WORKLOADS:
        calls = args.calls if workload.name != "stream" else max(1, args.calls // 50)
        report += engine_profile(workload.name, workload, calls, synthetic=False)
    report += engine_profile("one_turn, synthetic answer", WORKLOADS[0], args.calls, True)
    if args.server:
        report += ["mockspike serve under wrk, samples by innermost layer:"]
        report += server_profile(args.seconds)
    print("\n".join(report))


if __name__ == "__main__":
    sys.exit(main())
