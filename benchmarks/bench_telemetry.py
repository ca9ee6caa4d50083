"""What telemetry costs a `pycodex exec` run: no exporter, a live OTLP collector, and a
dead one (nothing listens on its port), for OTLP/HTTP and OTLP/gRPC.

Each scenario runs a one-turn `exec` against the mock model server N times (interleaved,
so machine noise spreads evenly) and reports the median wall time and its difference from
the run without telemetry. The issue's bar: a dead collector costs < 100 ms.

    python benchmarks/bench_telemetry.py [-n 15]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.exec_cli import ExecHarness  # noqa: E402
from tests.support.mock_model import MockModelServer, message, response  # noqa: E402
from tests.support.otlp_receiver import OtlpReceiver  # noqa: E402


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def otel(kind: str, endpoint: str) -> str:
    return f'\n[otel]\nexporter = {{ {kind} = {{ endpoint = "{endpoint}" }} }}\n'


def run_once(harness: ExecHarness, extra: str) -> float:
    harness.write_config(extra=extra)
    harness.mock.enqueue(response(message("hi")))
    started = time.perf_counter()
    result = harness.run("hello")
    elapsed = time.perf_counter() - started
    if result.rc != 0:
        raise SystemExit(f"exec failed: {result.stderr}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=15)
    args = parser.parse_args()
    dead = closed_port()
    with tempfile.TemporaryDirectory() as tmp, MockModelServer() as mock, \
            OtlpReceiver("http") as http_rx, OtlpReceiver("grpc") as grpc_rx:
        harness = ExecHarness(Path(tmp), mock)
        scenarios = {
            "no exporter": "",
            "otlp-http, live collector": otel("otlp-http", http_rx.endpoint),
            "otlp-grpc, live collector": otel("otlp-grpc", grpc_rx.endpoint),
            "otlp-http, dead collector": otel("otlp-http", f"http://127.0.0.1:{dead}/v1/logs"),
            "otlp-grpc, dead collector": otel("otlp-grpc", f"http://127.0.0.1:{dead}"),
        }
        times: dict[str, list[float]] = {name: [] for name in scenarios}
        try:
            for extra in scenarios.values():  # warm-up: page cache, .pyc files
                run_once(harness, extra)
            for _ in range(args.n):
                for name, extra in scenarios.items():
                    times[name].append(run_once(harness, extra))
        finally:
            harness.close()
    base = statistics.median(times["no exporter"])
    print(f"{'scenario':32} {'median':>9} {'vs none':>9}   (n={args.n})")
    for name, samples in times.items():
        median = statistics.median(samples)
        print(f"{name:32} {median * 1000:7.1f}ms {(median - base) * 1000:+7.1f}ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
