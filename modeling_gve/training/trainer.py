# Copyright 2026 The GVE package authors. Apache-2.0.
"""The training loop of the Modality Pyramid recipe, on accelerate (`Trainer`).

One step: the curriculum picks a task (the same on every process), each process reads its
share of that task's next global batch, embeds queries and candidates through
`GVEModel.forward` (LoRA adapters trainable), and the symmetric InfoNCE over the
all-gathered batch is back-propagated (optionally chunk by chunk with GradCache). At each probe
(every epoch start, and every ``probe_every_steps``) the prober scores the tasks (`prober`) and,
with ``hard_negatives: prober``, re-mines the period's hard negatives (`negatives`).

Checkpoints and the final merged GVE checkpoint: `checkpoints`; bad rows: `bad_rows`; logs: `run_log`.

Sharded models (FSDP, DeepSpeed ZeRO-3) gather their parameters in every forward and
backward pass, a collective: all processes run the same passes whatever their share of a
batch. A step where some process has no good row is skipped by all; GradCache pads the
shorter processes with zero-gradient passes; probing embeds a spare pair where a process
has none (`gradcache_step`, `prober.ModelPairScorer`).
"""

from __future__ import annotations

import math
import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, ContextManager

import torch
from accelerate import Accelerator
from accelerate.logging import get_logger
from accelerate.utils import DistributedType, ProjectConfiguration
from tqdm.auto import tqdm

from ..directions import tier
from ..modeling_gve import prefetch
from ..processing_gve import GVEProcessor
from .bad_rows import BadRowPolicy
from .checkpoints import find_checkpoint, load_checkpoint, register_adapter_hooks, save_checkpoint, save_merged_model
from .config import CurriculumArguments, DataArguments, PyramidConfig, TrainingArguments
from .curriculum import CurriculumScheduler
from .data import BadRow, BatchLoader, BatchPlanner, TaskData, TrainBatch, load_mixture, open_tasks
from .gradcache import gradcache_step
from .loss import ContrastiveOutput, InfoNCELoss, loss_inputs
from .model import is_sharded, make_embed
from .probing import CurriculumProbe
from .run_log import RunLog

logger = get_logger(__name__)

# --------------------------------------------------------------------------- building blocks


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

    def compute(embeddings: dict[str, torch.Tensor]) -> ContrastiveOutput:
        return loss_fn.compute(loss_inputs(batch.rows, batch.num_hard_negatives, embeddings))

    if chunk_size:
        return gradcache_step(embed, groups, compute, chunk_size=chunk_size, backward=backward, no_sync=no_sync,
                              max_over_processes=max_over_processes)  # fmt: skip
    output = compute({role: embed(items) for role, items in groups.items()})
    backward(output.loss)
    output.loss = output.loss.detach()
    return output


def _training_args(config: PyramidConfig | TrainingArguments) -> TrainingArguments:
    return config.training if isinstance(config, PyramidConfig) else config


def make_accelerator(training_args: TrainingArguments) -> Accelerator:
    """The run's `Accelerator`: precision, trackers and the output folder from the arguments."""
    training_args = _training_args(training_args)  # a whole `PyramidConfig` is accepted too
    output_dir = Path(training_args.output_dir)
    accelerator = Accelerator(
        cpu=training_args.use_cpu,
        mixed_precision=training_args.mixed_precision,
        log_with=training_args.report_to or None,
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
    if training_args.gradcache_chunk_size and accelerator.distributed_type == DistributedType.DEEPSPEED:
        raise ValueError(
            "gradcache_chunk_size is not supported under DeepSpeed (it needs several backward passes per "
            "optimizer step); use gradient checkpointing (the paper's setting) or DDP/FSDP"
        )
    return accelerator


def open_mixture(
    data_args: DataArguments, seed: int | Accelerator, accelerator: Accelerator | None = None
) -> list[TaskData]:
    """The mixture's tasks, opened (the main process first, so that one process fills the
    `datasets` cache). ``open_mixture(config, accelerator)`` is accepted too."""
    if isinstance(data_args, PyramidConfig):  # the former signature
        data_args, seed, accelerator = data_args.data, data_args.training.seed, seed
    specs = load_mixture(data_args.mixture)
    with accelerator.main_process_first():
        return open_tasks(specs, data_args.root(), seed, data_args.shuffle_buffer_size, data_args.cache_dir)


def build_curriculum(
    curriculum_args: CurriculumArguments,
    tasks: list[TaskData],
    batches: list[int],
    total_steps: int,
    steps_per_epoch: int,
) -> CurriculumScheduler:
    """The run's scheduler; a task's prior is its mixture ``weight``, else 1 (``task_prior: uniform``,
    the paper's formula) or its batches per epoch (``task_prior: batches``)."""
    by_batches = curriculum_args.task_prior == "batches"
    prior = [t.spec.weight if t.spec.weight is not None else (float(b) if by_batches else 1.0)
             for t, b in zip(tasks, batches)]  # fmt: skip
    return CurriculumScheduler(
        mode=curriculum_args.curriculum,
        task_names=[t.spec.task for t in tasks],
        tiers=[t.spec.tier or tier(t.direction) for t in tasks],
        prior=prior,
        total_steps=total_steps,  # max_steps included: the schedules end where training ends
        steps_per_epoch=steps_per_epoch,
        sigma_min=curriculum_args.sigma_min,
        sigma_max=curriculum_args.sigma_max,
        sigma_schedule=curriculum_args.sigma_schedule,
        probe_every_steps=curriculum_args.probe_every_steps,
    )


def build_optimizer(
    model: torch.nn.Module, training_args: TrainingArguments, total_steps: int, num_processes: int
) -> tuple[torch.optim.Optimizer, Any]:
    """AdamW over the trainable (LoRA) parameters and the learning-rate schedule."""
    from transformers import get_scheduler

    params = [p for p in model.parameters() if p.requires_grad]
    betas = (training_args.adam_beta1, training_args.adam_beta2)
    optimizer = torch.optim.AdamW(params, lr=training_args.learning_rate, weight_decay=training_args.weight_decay,
                                  betas=betas)  # fmt: skip
    # accelerate steps a prepared scheduler once per process per optimizer step
    scheduler = get_scheduler(
        training_args.lr_scheduler_type,
        optimizer,
        num_warmup_steps=math.ceil(training_args.warmup_ratio * total_steps) * num_processes,
        num_training_steps=total_steps * num_processes,
    )
    return optimizer, scheduler


@dataclass
class TrainerState:
    """The counters a checkpoint saves besides the model, optimizer and data position."""

    global_step: int = 0
    samples_seen: int = 0
    bad_rows: int = 0
    task_counts: Counter = field(default_factory=Counter)

    def to_dict(self) -> dict:
        return {**asdict(self), "task_counts": dict(self.task_counts)}

    @classmethod
    def from_dict(cls, state: dict) -> TrainerState:
        return cls(state["global_step"], state["samples_seen"], state["bad_rows"], Counter(state["task_counts"]))


# --------------------------------------------------------------------------- the trainer


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
        self.config, self.accelerator, self.processor, self.tasks = config, accelerator, processor, tasks
        training_args, world = config.training, accelerator.num_processes
        self.output_dir = Path(training_args.output_dir)
        batches = [max(1, t.samples_per_epoch // (t.spec.batch_size * world)) for t in tasks]
        self.steps_per_epoch = training_args.steps_per_epoch or sum(batches)
        self.total_steps = training_args.num_train_epochs * self.steps_per_epoch
        if training_args.max_steps is not None:
            self.total_steps = min(self.total_steps, training_args.max_steps)
        self.curriculum = build_curriculum(config.curriculum, tasks, batches, self.total_steps, self.steps_per_epoch)
        if config.curriculum.hard_negatives == "prober" and is_sharded(accelerator):
            raise ValueError(
                "hard_negatives: prober needs an unsharded model to mine with after epoch 1 (the prober is then the "
                "model being trained, whose forward passes are collectives under FSDP / ZeRO-3); use "
                "hard_negatives: static, or DDP / ZeRO-2"
            )
        self.param_dtype = next(p.dtype for n, p in model.named_parameters() if "lora_" not in n)
        optimizer, scheduler = build_optimizer(model, training_args, self.total_steps, world)
        if accelerator.distributed_type == DistributedType.DEEPSPEED:
            # No dataloader is prepared (batches are planned per task): tell DeepSpeed the
            # largest per-device batch, which it only uses for its batch-size bookkeeping.
            plugin = accelerator.state.deepspeed_plugin
            if plugin.is_auto("train_micro_batch_size_per_gpu"):
                plugin.deepspeed_config["train_micro_batch_size_per_gpu"] = max(t.spec.batch_size for t in tasks)
        self.model, self.optimizer, self.scheduler = accelerator.prepare(model, optimizer, scheduler)
        register_adapter_hooks(accelerator)
        self.loss_fn = InfoNCELoss(**asdict(config.loss))
        self.planner = BatchPlanner(tasks, world)
        self.loader = BatchLoader(tasks, processor, processor.sampling_config(), accelerator.process_index, world)
        self.embed = make_embed(self.model, processor, accelerator.device, self.param_dtype)
        self.state = TrainerState()
        self.bad_row_policy = BadRowPolicy(config.data, self.output_dir)
        self.run_log = RunLog(accelerator, self.output_dir, self.steps_per_epoch)
        self.probing = CurriculumProbe(self)

    # the counters as attributes, as before `TrainerState`
    global_step = property(lambda self: self.state.global_step)
    bad_rows = property(lambda self: self.state.bad_rows)

    # ------------------------------------------------------------------ bad rows

    def report_bad_row(self, bad: BadRow) -> None:
        """Report ``bad`` once (`BadRowPolicy.report`)."""
        self.bad_row_policy.report(bad)

    def apply_bad_row_policy(self, local_bad: list[BadRow], num_bad: int, where: str) -> None:
        """The bad-row policy, the same for training steps and probes (`BadRowPolicy.apply`):
        count the ``num_bad`` rows skipped by all processes; stop the run with ``on_bad_row: stop``
        or once more than ``max_bad_rows`` were skipped."""
        self.state.bad_rows = self.bad_row_policy.apply(local_bad, num_bad, self.state.bad_rows, where)

    # ------------------------------------------------------------------ probes

    def probe(self, step: int, *, score: bool = True, mine: bool | None = None) -> None:
        """The probe of the period starting at ``step`` (`probing.CurriculumProbe`)."""
        self.probing.run(step, score=score, mine=mine)

    # ------------------------------------------------------------------ steps

    def check_batch(self, batch: TrainBatch) -> bool:
        """Report bad rows, apply the bad-row policy; False when some process has no good row left."""
        accelerator = self.accelerator
        for bad in batch.bad:
            self.report_bad_row(bad)
        counts = accelerator.gather(torch.tensor([[len(batch.rows), len(batch.bad)]], device=accelerator.device))
        counts = counts.cpu()  # (P, 2): good and bad rows of every process
        self.apply_bad_row_policy(batch.bad, int(counts[:, 1].sum()), f"at step {batch.step}")
        if bool((counts[:, 0] == 0).any()):
            logger.warning("Step %d skipped: a process has no good row in its %s batch", batch.step, batch.task)
            return False
        return True

    def training_step(self, batch: TrainBatch) -> ContrastiveOutput:
        """Forward + backward of one batch (gradients accumulated, no optimizer step)."""
        accelerator = self.accelerator
        return contrastive_backward(
            self.embed,
            batch,
            self.loss_fn,
            backward=accelerator.backward,
            chunk_size=self.config.training.gradcache_chunk_size,
            no_sync=lambda: accelerator.no_sync(self.model),
            # the same GradCache passes on every process (FSDP: each pass is a collective)
            max_over_processes=partial(max_over_processes, accelerator) if accelerator.num_processes > 1 else None,
        )

    def optimizer_step(self) -> None:
        training_args = self.config.training
        if training_args.max_grad_norm is not None:
            self.accelerator.clip_grad_norm_(self.model.parameters(), training_args.max_grad_norm)
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)

    # ------------------------------------------------------------------ run

    def train(self) -> Path:
        """Run (or resume) training to the end, merge the adapters, write the GVE checkpoint."""
        accelerator, training_args = self.accelerator, self.config.training
        if accelerator.is_main_process:
            self.output_dir.mkdir(parents=True, exist_ok=True)
        accelerator.wait_for_everyone()
        settings = self.config.to_dict().items()
        tracked = {k: v if isinstance(v, (int, float, str, bool)) else str(v) for k, v in settings}
        accelerator.init_trackers(training_args.run_name, config=tracked)
        self.resume()
        logger.info(
            "Training %d tasks, %d steps (%d epochs of at most %d steps), %d processes, curriculum %s",
            len(self.tasks), self.total_steps, self.curriculum.num_epochs, self.steps_per_epoch,
            accelerator.num_processes, self.config.curriculum.curriculum,
        )  # fmt: skip
        progress = tqdm(total=self.total_steps, initial=self.state.global_step, desc="Training", unit="step",
                        disable=not accelerator.is_local_main_process, dynamic_ncols=True)  # fmt: skip
        self.model.train()
        try:
            self._run_periods(progress)
        finally:
            progress.close()
        save_merged_model(accelerator, self.model, self.config.model, self.processor, self.output_dir)
        accelerator.end_training()
        return self.output_dir

    def _prepare_period(self) -> int:
        """Probe (or, after a resume inside a period, re-mine) what the current period needs; its end."""
        start, end = self.curriculum.period(self.state.global_step)
        needs_scores = self.curriculum.needs_probe(start)
        needs_negatives = self.config.curriculum.hard_negatives == "prober" and self.probing.mined_period != start
        if needs_scores or needs_negatives:
            self.probe(start, score=needs_scores, mine=needs_negatives)
        return end

    def _run_periods(self, progress: tqdm) -> None:
        """Steps from ``global_step`` to the end, probe period after probe period (a period's draws
        depend on its probe, so batches are not prepared across a probe), logging and checkpointing."""
        training_args, data_args, state = self.config.training, self.config.data, self.state
        window: list[dict] = []
        data_state = self.planner.state_dict()
        last_saved = state.global_step if state.global_step else None
        while state.global_step < self.total_steps:
            end = self._prepare_period()
            plans = (self.planner.plan(step, self.curriculum.sample_task(step, training_args.seed))
                     for step in range(state.global_step, end))  # fmt: skip
            started = time.perf_counter()
            batches = prefetch(self.loader, plans, num_workers=data_args.num_workers, ahead=data_args.prefetch_batches)
            for batch in batches:
                if self.check_batch(batch):
                    output = self.training_step(batch)
                    self.optimizer_step()
                    state.samples_seen += output.num_queries
                    seconds = time.perf_counter() - started
                    window.append(RunLog.step_record(state.global_step + 1, batch, output, seconds))
                else:
                    self.scheduler.step()  # keep the schedule aligned with the plan
                state.global_step += 1
                data_state = batch.planner_state
                state.task_counts[batch.task] += 1
                progress.update(1)
                if window and (state.global_step % training_args.logging_steps == 0 or state.global_step == end):
                    record = self._window_record(window)
                    progress.set_postfix(loss=f"{record['loss']:.4f}", acc=f"{record['accuracy']:.3f}",
                                         task=batch.task)  # fmt: skip
                    self.log(record)
                    window = []
                if training_args.save_steps and state.global_step % training_args.save_steps == 0:
                    self.save_checkpoint(data_state)
                    last_saved = state.global_step
                started = time.perf_counter()
        if last_saved != state.global_step:
            self.save_checkpoint(data_state)

    # ------------------------------------------------------------------ checkpoints

    def save_checkpoint(self, data_state: dict) -> Path:
        """Checkpoint the run at ``global_step`` (`checkpoints.save_checkpoint`); drop the probe
        caches no kept checkpoint can resume into."""
        state = {**self.state.to_dict(), "data": data_state, "curriculum": self.curriculum.state_dict(),
                 "config": self.config.to_dict()}  # fmt: skip
        path = save_checkpoint(self.accelerator, self.output_dir, self.state.global_step, state,
                               self.config.training.save_total_limit)  # fmt: skip
        if self.accelerator.is_main_process:
            self.probing.prune_caches()
        return path

    def resume(self) -> None:
        checkpoint = find_checkpoint(self.output_dir, self.config.training.resume_from_checkpoint)
        if checkpoint is None:
            if self.config.training.resume_from_checkpoint:
                logger.info("No checkpoint to resume from in %s; starting from scratch", self.output_dir)
            return
        state = load_checkpoint(self.accelerator, checkpoint)
        self.state = TrainerState.from_dict(state)
        self.planner.load_state_dict(state["data"])
        self.curriculum.load_state_dict(state["curriculum"])
        logger.info("Resumed from %s at step %d", checkpoint, self.state.global_step, main_process_only=False)

    # ------------------------------------------------------------------ logging

    def log(self, record: dict) -> None:
        """One record into ``train_log.jsonl`` and the trackers (`RunLog`)."""
        self.run_log.write(record, self.state.global_step)

    def _window_record(self, window: list[dict]) -> dict:
        step, pyramid = self.state.global_step, self.config.curriculum.curriculum == "pyramid"
        return self.run_log.window_record(
            window,
            step,
            learning_rate=self.scheduler.get_last_lr()[0],
            samples_seen=self.state.samples_seen,
            bad_rows=self.state.bad_rows,
            sigma=self.curriculum.sigma(step - 1) if pyramid else None,  # σ of the window's last step
        )


__all__ = [
    "Trainer",
    "TrainerState",
    "build_curriculum",
    "build_optimizer",
    "contrastive_backward",
    "is_sharded",
    "make_accelerator",
    "make_embed",
    "max_over_processes",
    "open_mixture",
]
