"""`accelerate launch` runs the UVRB runner in two CPU processes: the unique inputs are split
between them, both write into one cache, and the scores equal a single-process run's.

accelerate 1.15's ``--cpu --num_processes 2`` starts a single process unless MPI is set up
(its simple launcher); ``recipes/accelerate/multi_cpu.yaml`` (the MULTI_GPU launcher) on a
machine without (visible) GPUs starts two torchrun processes, which form a gloo group
(``ACCELERATE_USE_CPU=true``)."""

import json

from helpers import accelerate_launch, run_bounded, subprocess_env
from uvrb_helpers import TEST_SAMPLING, mini_uvrb

from modeling_gve.uvrb.runner import UVRBRunConfig, run_uvrb

TASKS = ["MSRVTT", "DiDeMo", "MS-TV", "MSRVTT-I2V"]


def test_two_processes_share_the_work_and_one_cache(tiny_ckpt, tmp_path_factory, tmp_path):
    mini = mini_uvrb(tmp_path_factory)
    sampling = [f"{k}={v}" for k, v in TEST_SAMPLING.items()]
    env = subprocess_env(CUDA_VISIBLE_DEVICES="", ACCELERATE_USE_CPU="true")
    command = accelerate_launch(
        "-m", "modeling_gve", "uvrb", "--model", str(tiny_ckpt), "--data", str(mini), "--output", str(tmp_path),
        "--tasks", *TASKS, "--num-workers", "0", "--flush-every", "4", "--no-progress", "--sampling", *sampling,
    )  # fmt: skip
    done = run_bounded(command, timeout=600, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("## Datasets (paper Table 1)") == 1  # only the main process reports

    results = json.loads((tmp_path / "results.json").read_text())
    encoding = results["encoding"]
    assert encoding["num_processes"] == 2
    assert encoding["encoded_this_run"] == encoding["unique_inputs"]  # every input once, none twice
    shards = list((tmp_path / "embedding_cache").rglob("shard-*.json"))
    writers = {path.name.split("-")[1] for path in shards}  # shard-<pid>-<uuid>.json
    assert len(writers) == 2
    keys = [k for path in shards for k in json.loads(path.read_text())["keys"]]
    assert len(keys) == len(set(keys)) == encoding["unique_inputs"]

    single = run_uvrb(
        UVRBRunConfig(
            model=str(tiny_ckpt),
            output=str(tmp_path / "single"),
            data=str(mini),
            tasks=TASKS,
            sampling=dict(TEST_SAMPLING),
            num_workers=0,
            show_progress_bar=False,
        )
    )
    for name in TASKS:
        assert results["tasks"][name] == single["tasks"][name], name
