# Copyright 2026 The GVE package authors. Apache-2.0.
"""Start-up of ``import modeling_gve`` and the ``gve`` command: ours against importing everything
eagerly, side by side.

Each case runs in a fresh interpreter (``--repeat`` times; the median wall time is printed, with
the heavy modules it loaded). "ours" is the code as shipped: the package exports and the Auto-class
registration load on first use, and ``gve`` imports only the module of the command given, whose
heavy imports sit inside its ``run``. "eager" is the obvious way, what the package did before:
``import modeling_gve`` imports the model code and registers it, and the ``gve`` parser imports
every command's library module (torch, transformers, torchvision, torchcodec) before parsing.

Usage:
    python benchmarks/bench_startup.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import textwrap
import time

# case -> the `gve` arguments it runs (None: only `import modeling_gve`)
CASES = {
    "import modeling_gve": None,
    "gve --help": ["--help"],
    "gve convert --help": ["convert", "--help"],
    "gve search --help": ["search", "--help"],
    "gve synthesize --help": ["synthesize", "--help"],
    "gve hub push-model --help": ["hub", "push-model", "--help"],
    "gve uvrb --help": ["uvrb", "--help"],
    "gve search DIR --top-kk 3 (typo)": ["search", "DIR", "--top-kk", "3"],
    "gve synthesize --captioner_modle m": ["synthesize", "--captioner_modle", "m"],
}

# The eager way: the model code and every command's library imported before anything is parsed.
EAGER = textwrap.dedent(
    """
    import modeling_gve, modeling_gve.registration
    modeling_gve.registration.register_auto_classes()
    import modeling_gve.convert, modeling_gve.search, modeling_gve.samples, modeling_gve.uvrb.runner
    import modeling_gve.synthesis.pipeline, modeling_gve.hub.publish
    """
)

CHILD = textwrap.dedent(
    """
    import io, json, sys, contextlib
    argv, eager = json.loads(sys.argv[1]), sys.argv[2] == "eager"
    if eager:
        exec({eager!r})
    import modeling_gve
    if argv is not None:
        from modeling_gve.cli import main
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            try:
                main(argv)
            except SystemExit:
                pass
    heavy = [m for m in ("torch", "transformers", "torchvision", "torchcodec") if m in sys.modules]
    print(json.dumps(heavy))
    """
).format(eager=EAGER)


def run_once(argv: list[str] | None, way: str) -> tuple[float, list[str]]:
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(argv), way], capture_output=True, text=True, check=True
    )
    return time.perf_counter() - start, json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="fresh interpreters per case and way (median)")
    args = parser.parse_args()
    baseline = statistics.median(run_python_empty() for _ in range(args.repeat))  # the interpreter alone
    print(f"python -c pass: {baseline:.2f} s (median of {args.repeat})\n")
    print(f"{'case':38} {'ours (s)':>9} {'eager (s)':>10} {'eager/ours':>11}  heavy modules ours loaded")
    for case, argv in CASES.items():
        times = {way: [] for way in ("ours", "eager")}
        heavy: list[str] = []
        for _ in range(args.repeat):
            for way in times:  # interleaved, so that load on the machine hits both alike
                seconds, loaded = run_once(argv, way)
                times[way].append(seconds)
                heavy = loaded if way == "ours" else heavy
        ours, eager = statistics.median(times["ours"]), statistics.median(times["eager"])
        print(f"{case:38} {ours:9.2f} {eager:10.2f} {eager / ours:10.1f}x  {', '.join(heavy) or '-'}")


def run_python_empty() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
