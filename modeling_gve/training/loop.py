# Copyright 2026 The GVE package authors. Apache-2.0.
"""The training loop of the Modality Pyramid recipe, on accelerate.

One step: the curriculum picks a task (the same on every process), each process reads its
share of that task's next global batch, embeds queries and candidates through
`GVEModel.forward` (LoRA adapters trainable), and the symmetric InfoNCE over the
all-gathered batch is back-propagated (optionally chunk by chunk with GradCache).

Checkpoints (``<output_dir>/checkpoints/checkpoint-<step>``) hold, through
``accelerator.save_state``: the LoRA weights (safetensors; the frozen base is not copied),
optimizer, scheduler and every process's RNG states; plus ``trainer_state.json``: step,
data position of every task, curriculum scores, counters. A checkpoint is written to a
``.tmp`` folder and renamed when complete, so a run killed while saving resumes from the
previous one. Resuming continues the same trajectory (tested against an uninterrupted run).

At the end the adapters are merged and ``<output_dir>`` becomes a self-contained GVE
checkpoint (`modeling_gve.checkpoint.save_gve_checkpoint`).

Sharded models (FSDP, DeepSpeed ZeRO-3) gather their parameters in every forward and
backward pass, a collective: all processes run the same passes whatever their share of a
batch. A step where some process has no good row is skipped by all; GradCache pads the
shorter processes with zero-gradient passes; probing embeds a spare pair where a process
has none (`gradcache_step`, `probe_alignment`; tested on 2 CPU processes with FSDP2).
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import time
from collections import Counter
from functools import partial
from pathlib import Path
from typing import Callable, ContextManager

import torch
from accelerate import Accelerator
from accelerate.logging import get_logger
from accelerate.utils import DistributedType, ProjectConfiguration, set_seed
from safetensors.torch import load_file, save_file
from tqdm.auto import tqdm

from ..directions import tier
from ..modeling_gve import GVEModel, prefetch, to_model_inputs
from ..processing_gve import GVEProcessor
from .config import PyramidConfig
from .curriculum import CurriculumScheduler, entropy, probe_alignment
from .data import BadDataError, BadRow, BatchLoader, BatchPlanner, TaskData, TrainBatch, load_mixture, open_tasks
from .gradcache import gradcache_step
from .loss import ContrastiveOutput, InfoNCELoss
from .model import adapter_state_dict, build_training_model, load_processor, merge_and_save

logger = get_logger(__name__)

ADAPTER_FILE = "adapter_model.safetensors"
STATE_FILE = "trainer_state.json"
CHECKPOINT_PATTERN = re.compile(r"^checkpoint-(\d+)$")


# --------------------------------------------------------------------------- helpers


def make_embed(
    model: torch.nn.Module, processor: GVEProcessor, device: torch.device, dtype: torch.dtype
) -> Callable[[list[dict]], torch.Tensor]:
    """Tokenized items -> ``(n, D)`` embeddings through ``model`` (the one GVE protocol:
    `GVEProcessor.collate`, then `GVEModel.forward`)."""

    def embed(features: list[dict]) -> torch.Tensor:
        return model(**to_model_inputs(processor.collate(features), device, dtype)).embeddings

    return embed


def max_over_processes(accelerator: Accelerator, values: torch.Tensor) -> torch.Tensor:
    """Element-wise maximum of a small tensor ``(n,)`` over the processes (on the CPU)."""
    return accelerator.gather(values[None].to(accelerator.device)).max(dim=0).values.cpu()  # (P, n) -> (n,)


def contrastive_backward(
    embed: Callable[[list[dict]], torch.Tensor],
    batch: TrainBatch,
    loss_fn: InfoNCELoss,
    backward: Callable[[torch.Tensor], None],
    chunk_size: int | None = None,
    no_sync: Callable[[], ContextManager] | None = None,
    max_over_processes: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> ContrastiveOutput:
    """Embed a batch's queries and candidates, compute the loss and back-propagate it; with
    ``chunk_size``, GradCache-style (same gradients, memory of one chunk; ``no_sync`` and
    ``max_over_processes`` as in `gradcache_step`).

    Without GradCache every process runs two forward passes (queries, candidates) and one
    backward, whatever its number of rows: safe where passes are collectives (FSDP, ZeRO-3).

    Returns:
        The `ContrastiveOutput`, its ``loss`` detached.
    """
    groups = batch.groups()
    if chunk_size:
        return gradcache_step(
            embed,
            groups,
            lambda embeddings: loss_fn(**batch.loss_inputs(embeddings)),
            chunk_size=chunk_size,
            backward=backward,
            no_sync=no_sync,
            max_over_processes=max_over_processes,
        )
    embeddings = {role: embed(items) for role, items in groups.items()}
    output = loss_fn(**batch.loss_inputs(embeddings))
    backward(output.loss)
    output.loss = output.loss.detach()
    return output


def find_checkpoint(output_dir: Path, resume: str | None) -> Path | None:
    """``resume``: ``"latest"`` (newest complete checkpoint, or None) or a checkpoint folder."""
    if resume is None:
        return None
    if resume != "latest":
        path = Path(resume)
        if not (path / STATE_FILE).is_file():
            raise FileNotFoundError(f"resume_from_checkpoint {resume!r} is not a complete checkpoint folder")
        return path
    folder = output_dir / "checkpoints"
    found = [
        (int(m.group(1)), p)
        for p in (folder.iterdir() if folder.is_dir() else [])
        if (m := CHECKPOINT_PATTERN.match(p.name)) and (p / STATE_FILE).is_file()
    ]
    return max(found)[1] if found else None


def make_accelerator(config: PyramidConfig) -> Accelerator:
    """The run's `Accelerator`: precision, trackers and the output folder from the config."""
    targs = config.training
    output_dir = Path(targs.output_dir)
    accelerator = Accelerator(
        cpu=targs.use_cpu,
        mixed_precision=targs.mixed_precision,
        log_with=targs.report_to or None,
        project_config=ProjectConfiguration(project_dir=str(output_dir), logging_dir=str(output_dir / "logs")),
    )
    launched = int(os.environ.get("WORLD_SIZE", "1"))
    if launched > 1 and accelerator.num_processes != launched:
        # accelerate falls back to independent single-process runs when it finds no backend
        # (several CPU processes without `cpu=True`): every process would train alone.
        raise RuntimeError(
            f"{launched} processes were launched but accelerate set up {accelerator.num_processes}; "
            "on CPU set use_cpu: true (recipes/configs/tiny-cpu.yaml does)"
        )
    if targs.gradcache_chunk_size and accelerator.distributed_type == DistributedType.DEEPSPEED:
        raise ValueError(
            "gradcache_chunk_size is not supported under DeepSpeed (it needs several backward passes per "
            "optimizer step); use gradient checkpointing (the paper's setting) or DDP/FSDP"
        )
    return accelerator


def open_mixture(config: PyramidConfig, accelerator: Accelerator) -> list[TaskData]:
    """The mixture's tasks, opened (the main process first, so that one process fills the
    `datasets` cache)."""
    dargs = config.data
    specs = load_mixture(dargs.mixture)
    data_root = Path(dargs.data_root) if dargs.data_root else Path(dargs.mixture).resolve().parent
    with accelerator.main_process_first():
        return open_tasks(specs, data_root, config.training.seed, dargs.shuffle_buffer_size, dargs.cache_dir)


class Trainer:
    """One run of the recipe; `train` runs (or resumes) it to the merged checkpoint.

    Args:
        config: the run's arguments.
        accelerator: from `make_accelerator`.
        model: the peft-wrapped GVE model (`build_training_model`), not yet prepared.
        processor: its `GVEProcessor`, with the training sampling settings.
        tasks: the mixture's tasks (`open_mixture`).
    """

    def __init__(
        self,
        config: PyramidConfig,
        accelerator: Accelerator,
        model: torch.nn.Module,
        processor: GVEProcessor,
        tasks: list[TaskData],
    ):
        self.config = config
        cargs, largs, targs = config.curriculum, config.loss, config.training
        self.output_dir = Path(targs.output_dir)
        self.accelerator = acc = accelerator
        self.tasks = tasks
        world = acc.num_processes
        batches = [max(1, t.samples_per_epoch // (t.spec.batch_size * world)) for t in self.tasks]
        self.steps_per_epoch = targs.steps_per_epoch or sum(batches)
        self.total_steps = targs.num_train_epochs * self.steps_per_epoch
        if targs.max_steps is not None:
            self.total_steps = min(self.total_steps, targs.max_steps)
        prior = [
            t.spec.weight if t.spec.weight is not None else (float(b) if cargs.task_prior == "batches" else 1.0)
            for t, b in zip(self.tasks, batches)
        ]
        self.curriculum = CurriculumScheduler(
            mode=cargs.curriculum,
            task_names=[t.spec.task for t in self.tasks],
            tiers=[t.spec.tier or tier(t.direction) for t in self.tasks],
            prior=prior,
            total_steps=self.total_steps,  # max_steps included: the schedules end where training ends
            steps_per_epoch=self.steps_per_epoch,
            sigma_min=cargs.sigma_min,
            sigma_max=cargs.sigma_max,
            sigma_schedule=cargs.sigma_schedule,
        )

        self.processor = processor
        self.sampling = processor.sampling_config()
        self.param_dtype = next(p.dtype for n, p in model.named_parameters() if "lora_" not in n)
        params = [p for p in model.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(
            params, lr=targs.learning_rate, weight_decay=targs.weight_decay, betas=(targs.adam_beta1, targs.adam_beta2)
        )
        from transformers import get_scheduler

        # accelerate steps a prepared scheduler once per process per optimizer step
        scheduler = get_scheduler(
            targs.lr_scheduler_type,
            optimizer,
            num_warmup_steps=math.ceil(targs.warmup_ratio * self.total_steps) * world,
            num_training_steps=self.total_steps * world,
        )
        if acc.distributed_type == DistributedType.DEEPSPEED:
            # No dataloader is prepared (batches are planned per task): tell DeepSpeed the
            # largest per-device batch, which it only uses for its batch-size bookkeeping.
            plugin = acc.state.deepspeed_plugin
            if plugin.is_auto("train_micro_batch_size_per_gpu"):
                plugin.deepspeed_config["train_micro_batch_size_per_gpu"] = max(t.spec.batch_size for t in tasks)
        self.model, self.optimizer, self.scheduler = acc.prepare(model, optimizer, scheduler)
        acc.register_save_state_pre_hook(self._save_adapters)
        acc.register_load_state_pre_hook(self._load_adapters)
        self.loss_fn = InfoNCELoss(
            largs.temperature,
            symmetric=largs.symmetric,
            gather_across_processes=largs.gather_across_processes,
            hard_negative_scope=largs.hard_negative_scope,
            false_negative_margin=largs.false_negative_margin,
            mask_duplicates=largs.mask_duplicates,
        )
        self.planner = BatchPlanner(self.tasks, world)
        self.loader = BatchLoader(self.tasks, self.processor, self.sampling, acc.process_index, world)
        self.embed = make_embed(self.model, self.processor, acc.device, self.param_dtype)
        self.global_step = 0
        self.samples_seen = 0
        self.bad_rows = 0
        self.task_counts: Counter = Counter()
        self._reported: set[tuple[str, str, str]] = set()

    # ------------------------------------------------------------------ checkpoints

    def _save_adapters(self, models: list, weights: list, output_dir: str) -> None:
        # Non-sharded models arrive as full state dicts in `weights`: keep only the LoRA
        # weights instead of copying the frozen base into every checkpoint.
        if not weights:
            return  # FSDP / DeepSpeed save their own (sharded) model state
        weights.clear()
        if self.accelerator.is_main_process:
            state = adapter_state_dict(self.accelerator.unwrap_model(models[0]))
            save_file(state, os.path.join(output_dir, ADAPTER_FILE), metadata={"format": "pt"})

    def _load_adapters(self, models: list, input_dir: str) -> None:
        if not models:
            return
        model = self.accelerator.unwrap_model(models.pop(0))
        state = load_file(os.path.join(input_dir, ADAPTER_FILE))
        expected = {n for n, p in model.named_parameters() if p.requires_grad}
        if set(state) != expected:
            raise ValueError(f"{input_dir}: adapter weights do not match the model's LoRA parameters")
        model.load_state_dict(state, strict=False)

    def save_checkpoint(self, data_state: dict) -> Path:
        acc = self.accelerator
        folder = self.output_dir / "checkpoints"
        final = folder / f"checkpoint-{self.global_step}"
        tmp = folder / f"checkpoint-{self.global_step}.tmp"
        if acc.is_main_process:
            for stale in folder.glob("checkpoint-*.tmp"):  # left by a run killed while saving
                shutil.rmtree(stale, ignore_errors=True)
            tmp.mkdir(parents=True)
        acc.wait_for_everyone()
        acc.save_state(str(tmp))
        acc.wait_for_everyone()
        if acc.is_main_process:
            state = {
                "global_step": self.global_step,
                "samples_seen": self.samples_seen,
                "bad_rows": self.bad_rows,
                "task_counts": dict(self.task_counts),
                "data": data_state,
                "curriculum": self.curriculum.state_dict(),
                "num_processes": acc.num_processes,
                "config": self.config.to_dict(),
            }
            (tmp / STATE_FILE).write_text(json.dumps(state, indent=2))
            shutil.rmtree(final, ignore_errors=True)
            tmp.rename(final)  # complete checkpoints only ever appear under their final name
            self._prune_checkpoints(folder)
        acc.wait_for_everyone()
        return final

    def _prune_checkpoints(self, folder: Path) -> None:
        limit = self.config.training.save_total_limit
        if limit is None:
            return
        done = sorted(
            (int(m.group(1)), p) for p in folder.iterdir() if (m := CHECKPOINT_PATTERN.match(p.name))
        )
        for _, path in done[:-limit]:  # limit >= 1 (TrainingArguments): the newest one stays
            shutil.rmtree(path, ignore_errors=True)

    def resume(self) -> None:
        checkpoint = find_checkpoint(self.output_dir, self.config.training.resume_from_checkpoint)
        if checkpoint is None:
            if self.config.training.resume_from_checkpoint:
                logger.info("No checkpoint to resume from in %s; starting from scratch", self.output_dir)
            return
        state = json.loads((checkpoint / STATE_FILE).read_text())
        if state["num_processes"] != self.accelerator.num_processes:
            raise ValueError(
                f"{checkpoint} was written by {state['num_processes']} processes; resume with the same number "
                f"(got {self.accelerator.num_processes}): the data sharding depends on it"
            )
        self.accelerator.load_state(str(checkpoint))
        self.global_step = state["global_step"]
        self.samples_seen = state["samples_seen"]
        self.bad_rows = state["bad_rows"]
        self.task_counts = Counter(state["task_counts"])
        self.planner.load_state_dict(state["data"])
        self.curriculum.load_state_dict(state["curriculum"])
        logger.info("Resumed from %s at step %d", checkpoint, self.global_step, main_process_only=False)

    # ------------------------------------------------------------------ logging

    def log(self, record: dict) -> None:
        if self.accelerator.is_main_process:
            with open(self.output_dir / "train_log.jsonl", "a") as f:
                f.write(json.dumps(record) + "\n")
        self.accelerator.log({k: v for k, v in record.items() if isinstance(v, (int, float))}, step=self.global_step)

    def report_bad_row(self, bad: BadRow) -> None:
        """A bad row is reported once (by the process that read it), with its task, id, field
        and reason; every later draw of it is skipped again and counted."""
        key = (bad.task, bad.row_id, bad.field)
        if key in self._reported:
            return
        self._reported.add(key)
        logger.warning("Bad training row, skipped: %s", bad, main_process_only=False)
        with open(self.output_dir / "bad_rows.jsonl", "a") as f:  # O_APPEND: whole lines from every process
            f.write(bad.to_json() + "\n")

    # ------------------------------------------------------------------ steps

    def probe(self, epoch: int) -> None:
        """Alignment scores R_k for ``epoch`` (pyramid curriculum), logged with σ and P(k)."""
        acc, cargs = self.accelerator, self.config.curriculum
        prober_path = cargs.prober_model_name_or_path if epoch == 0 else None
        if prober_path:
            prober = GVEModel.from_pretrained(prober_path, dtype=self.param_dtype).to(acc.device).eval()
            processor = GVEProcessor.from_pretrained(prober_path)
            processor.sampling = self.processor.sampling
            embed = make_embed(prober, processor, acc.device, self.param_dtype)
            loader = BatchLoader(self.tasks, processor, processor.sampling_config(), acc.process_index, acc.num_processes)
        else:
            sharded = acc.distributed_type in (DistributedType.FSDP, DistributedType.DEEPSPEED)
            prober = self.model if sharded else acc.unwrap_model(self.model)
            embed, loader = make_embed(prober, self.processor, acc.device, self.param_dtype), self.loader
        probe_bad: list[BadRow] = []

        def on_bad_row(bad: BadRow) -> None:
            probe_bad.append(bad)
            self.report_bad_row(bad)

        self.model.eval()
        try:
            scores = probe_alignment(
                embed,
                loader,
                self.tasks,
                num_pairs=cargs.num_probe_pairs,
                batch_size=cargs.probe_batch_size,
                seed=self.config.training.seed,
                epoch=epoch,
                process_index=acc.process_index,
                num_processes=acc.num_processes,
                reduce_sum=lambda t: acc.reduce(t.to(acc.device), "sum"),
                on_bad_row=on_bad_row,
            )
        finally:
            self.model.train()
            if prober_path:
                del prober
        num_bad = int(acc.reduce(torch.tensor(len(probe_bad), device=acc.device), "sum"))
        if num_bad and self.config.data.on_bad_row == "stop":
            detail = "; ".join(str(b) for b in probe_bad) or "reported by another process (see bad_rows.jsonl)"
            raise BadDataError(f"bad training row(s) met while probing epoch {epoch + 1} (on_bad_row: stop): {detail}")
        self.curriculum.set_scores(epoch, scores)
        step = epoch * self.steps_per_epoch
        probs = self.curriculum.probabilities(step)
        lines = [f"  {t.spec.task:<24} R={r:+.4f}  P={float(p):.4f}" for t, r, p in zip(self.tasks, scores, probs)]
        logger.info(
            "Epoch %d alignment scores (prober: %s), sigma=%.3f:\n%s",
            epoch + 1, prober_path or "the model being trained", self.curriculum.sigma(step), "\n".join(lines),
        )  # fmt: skip
        self.log({"event": "curriculum", "epoch": epoch + 1, "prober": prober_path or "self",
                  "entropy": entropy(probs), **self.curriculum.report(step)})  # fmt: skip

    def check_batch(self, batch: TrainBatch) -> bool:
        """Report bad rows, apply ``on_bad_row``; False when some process has no good row left."""
        acc, dargs = self.accelerator, self.config.data
        for bad in batch.bad:
            self.report_bad_row(bad)
        counts = acc.gather(torch.tensor([[len(batch.rows), len(batch.bad)]], device=acc.device)).cpu()  # (P, 2)
        num_bad = int(counts[:, 1].sum())
        self.bad_rows += num_bad
        if num_bad and dargs.on_bad_row == "stop":
            detail = "; ".join(str(b) for b in batch.bad) or "reported by another process (see bad_rows.jsonl)"
            raise BadDataError(f"bad training row(s) at step {batch.step} (on_bad_row: stop): {detail}")
        if dargs.max_bad_rows is not None and self.bad_rows > dargs.max_bad_rows:
            raise BadDataError(
                f"{self.bad_rows} bad rows skipped, more than max_bad_rows={dargs.max_bad_rows}; see "
                f"{self.output_dir / 'bad_rows.jsonl'}"
            )
        if bool((counts[:, 0] == 0).any()):
            logger.warning("Step %d skipped: a process has no good row in its %s batch", batch.step, batch.task)
            return False
        return True

    def training_step(self, batch: TrainBatch) -> ContrastiveOutput:
        """Forward + backward of one batch (gradients accumulated, no optimizer step)."""
        acc = self.accelerator
        return contrastive_backward(
            self.embed,
            batch,
            self.loss_fn,
            backward=acc.backward,
            chunk_size=self.config.training.gradcache_chunk_size,
            no_sync=lambda: acc.no_sync(self.model),
            # the same GradCache passes on every process (FSDP: each pass is a collective)
            max_over_processes=partial(max_over_processes, acc) if acc.num_processes > 1 else None,
        )

    def optimizer_step(self) -> None:
        targs = self.config.training
        if targs.max_grad_norm is not None:
            self.accelerator.clip_grad_norm_(self.model.parameters(), targs.max_grad_norm)
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)

    # ------------------------------------------------------------------ run

    def train(self) -> Path:
        """Run (or resume) training to the end, merge the adapters, write the GVE checkpoint."""
        acc, targs = self.accelerator, self.config.training
        if acc.is_main_process:
            self.output_dir.mkdir(parents=True, exist_ok=True)
        acc.wait_for_everyone()
        acc.init_trackers(
            targs.run_name, config={k: v if isinstance(v, (int, float, str, bool)) else str(v)
                                    for k, v in self.config.to_dict().items()}
        )  # fmt: skip
        self.resume()
        logger.info(
            "Training %d tasks, %d steps (%d epochs of at most %d steps), %d processes, curriculum %s",
            len(self.tasks), self.total_steps, self.curriculum.num_epochs, self.steps_per_epoch,
            acc.num_processes, self.config.curriculum.curriculum,
        )  # fmt: skip
        progress = tqdm(total=self.total_steps, initial=self.global_step, desc="Training", unit="step",
                        disable=not acc.is_local_main_process, dynamic_ncols=True)  # fmt: skip
        self.model.train()
        try:
            self._run_epochs(progress)
        finally:
            progress.close()
        return self.finish()

    def _run_epochs(self, progress: tqdm) -> None:
        """Steps from ``global_step`` to the end, probing each epoch, logging and checkpointing."""
        targs, dargs = self.config.training, self.config.data
        window: list[dict] = []
        data_state = self.planner.state_dict()
        last_saved = self.global_step if self.global_step else None
        while self.global_step < self.total_steps:
            epoch = self.global_step // self.steps_per_epoch
            if self.curriculum.needs_probe(epoch):
                self.probe(epoch)
            epoch_end = min((epoch + 1) * self.steps_per_epoch, self.total_steps)
            plans = (
                self.planner.plan(step, self.curriculum.sample_task(step, targs.seed))
                for step in range(self.global_step, epoch_end)
            )
            started = time.perf_counter()
            for batch in prefetch(self.loader, plans, num_workers=dargs.num_workers, ahead=dargs.prefetch_batches):
                if self.check_batch(batch):
                    output = self.training_step(batch)
                    self.optimizer_step()
                    window.append(self._step_record(batch, output, time.perf_counter() - started))
                else:
                    self.scheduler.step()  # keep the schedule aligned with the plan
                self.global_step += 1
                data_state = batch.planner_state
                self.task_counts[batch.task] += 1
                progress.update(1)
                if window and (self.global_step % targs.logging_steps == 0 or self.global_step == self.total_steps):
                    record = self._window_record(window, epoch)
                    progress.set_postfix(loss=f"{record['loss']:.4f}", acc=f"{record['accuracy']:.3f}",
                                         task=batch.task)  # fmt: skip
                    self.log(record)
                    window = []
                if targs.save_steps and self.global_step % targs.save_steps == 0:
                    self.save_checkpoint(data_state)
                    last_saved = self.global_step
                started = time.perf_counter()
        if last_saved != self.global_step:
            self.save_checkpoint(data_state)

    def _step_record(self, batch: TrainBatch, output: ContrastiveOutput, seconds: float) -> dict:
        self.samples_seen += output.num_queries
        return {
            "step": self.global_step + 1,
            "task": batch.task,
            "loss": float(output.loss),
            "accuracy": output.accuracy,
            "positive_score": output.positive_score,
            "hard_negative_margin": output.hard_negative_margin,
            "num_queries": output.num_queries,
            "num_masked": output.num_masked,
            "seconds": seconds,
        }

    def _window_record(self, window: list[dict], epoch: int) -> dict:
        def mean(key: str) -> float:
            values = [r[key] for r in window if not math.isnan(r[key])]
            return sum(values) / len(values) if values else math.nan

        seconds = sum(r["seconds"] for r in window)
        tasks = Counter(r["task"] for r in window)
        return {
            "event": "train",
            "step": self.global_step,
            "epoch": epoch + 1,
            "loss": mean("loss"),
            "accuracy": mean("accuracy"),
            "positive_score": mean("positive_score"),
            "hard_negative_margin": mean("hard_negative_margin"),
            "learning_rate": self.scheduler.get_last_lr()[0],
            "samples_per_second": sum(r["num_queries"] for r in window) / max(seconds, 1e-9),
            "steps_per_second": len(window) / max(seconds, 1e-9),
            "samples_seen": self.samples_seen,
            "bad_rows": self.bad_rows,
            "steps": [(r["step"], r["task"], r["loss"]) for r in window],
            **{f"tasks/{name}": count for name, count in tasks.items()},
        }

    def finish(self) -> Path:
        """Merge the LoRA adapters into the base and write ``output_dir`` as a GVE checkpoint."""
        acc = self.accelerator
        acc.wait_for_everyone()
        if acc.distributed_type in (DistributedType.FSDP, DistributedType.DEEPSPEED):
            full = acc.get_state_dict(self.model)  # a collective: every process takes part
            adapters = {k: v.cpu() for k, v in full.items() if "lora_" in k} if acc.is_main_process else {}
        else:
            adapters = adapter_state_dict(acc.unwrap_model(self.model)) if acc.is_main_process else {}
        if acc.is_main_process:
            merge_and_save(self.config.model, adapters, self.processor, self.output_dir)
            logger.info("Wrote the merged GVE checkpoint to %s", self.output_dir)
        acc.wait_for_everyone()
        acc.end_training()
        return self.output_dir


def train(config: PyramidConfig) -> Path:
    """Run the Modality Pyramid recipe described by ``config`` (the entry point of
    ``recipes/pyramid.py``); returns the output folder, a merged GVE checkpoint."""
    accelerator = make_accelerator(config)
    # Model: GVE with LoRA on the language model, and its processor with the run's sampling
    set_seed(config.training.seed)  # identical LoRA initialisation on every process
    model = build_training_model(config.model)
    processor = load_processor(config.model)
    # Data: the mixture's tasks
    tasks = open_mixture(config, accelerator)
    # Training: curriculum, InfoNCE, checkpoints, the merged checkpoint at the end
    return Trainer(config, accelerator, model, processor, tasks).train()


__all__ = [
    "Trainer",
    "contrastive_backward",
    "find_checkpoint",
    "make_accelerator",
    "make_embed",
    "max_over_processes",
    "open_mixture",
    "train",
]
