# Copyright 2026 The GVE package authors. Apache-2.0.
"""The trainer's probe step: at the start of each probe period (every epoch start, and every
``probe_every_steps``) the prober scores the tasks (`prober`), the curriculum draws the period
with the scores, and with ``hard_negatives: prober`` the period's hard negatives are re-mined
(`negatives`). Which prober: Ψ1 (``prober_model_name_or_path``) during the first epoch, the model
being trained afterwards. Its embeddings are cached per probe in ``<output_dir>/probes/step-<N>``.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
from collections import Counter
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from ..encoders import CachedEncoder, Encoder
from .checkpoints import complete_checkpoints
from .curriculum import entropy
from .data import BadRow, TaskData
from .data.task_data import open_dataset
from .model import is_sharded, make_embed
from .negatives import ProberMiner, mine_period
from .prober import EncoderPairScorer, ModelPairScorer, load_prober, probe_alignment, self_encoder

if TYPE_CHECKING:
    from accelerate import Accelerator

    from .trainer import Trainer

logger = logging.getLogger(__name__)

MINING_CHUNK_SIZE = 1024  # queries scored against a candidate pool at a time


def reduce_sum(accelerator: Accelerator, tensor: torch.Tensor) -> torch.Tensor:
    """``tensor`` summed over the processes, on the CPU."""
    return accelerator.reduce(tensor.to(accelerator.device), "sum").cpu()


class CurriculumProbe:
    """The probe step of a `Trainer` (which it reads its model, data and curriculum from).

    Attributes:
        mined_period: the start of the period whose negatives the planner holds (``None``: none yet).
    """

    def __init__(self, trainer: Trainer):
        self.trainer = trainer
        self.mined_period: int | None = None
        self._corpora: dict[str, TaskData] | None = None

    def folder(self, step: int) -> Path:
        """The embedding cache of the probe made at ``step``."""
        return self.trainer.output_dir / "probes" / f"step-{step}"

    def first_prober(self, step: int) -> Encoder | None:
        """The configured prober Ψ1 for probes in the first epoch; ``None`` for the model being trained."""
        trainer = self.trainer
        args = trainer.config.curriculum
        if not args.prober_model_name_or_path or step >= trainer.steps_per_epoch:
            return None
        return load_prober(
            args.prober_model_name_or_path, args.prober_encoder, sampling=trainer.config.model.sampling_overrides(),
            device=str(trainer.accelerator.device), dtype=str(trainer.param_dtype).removeprefix("torch."),
            revision=args.prober_revision, trust_remote_code=args.prober_trust_remote_code,
        )  # fmt: skip

    def run(self, step: int, *, score: bool = True, mine: bool | None = None) -> None:
        """The probe of the period starting at ``step``: alignment scores R_k (``score``), logged
        with σ and P(k); the period's hard negatives re-mined (``mine``; default: with
        ``hard_negatives: prober``)."""
        trainer = self.trainer
        mine = trainer.config.curriculum.hard_negatives == "prober" if mine is None else mine
        external = self.first_prober(step)
        name = trainer.config.curriculum.prober_model_name_or_path if external is not None else "self"
        cached = None
        if external is not None or mine:
            model = trainer.accelerator.unwrap_model(trainer.model)
            cached = CachedEncoder(external or self_encoder(model, trainer.processor), self.folder(step))
        trainer.model.eval()
        try:
            if score:
                self.score(step, cached if external is not None else None, name)
            if mine:
                self.mine(step, cached)
        finally:
            trainer.model.train()
            del external, cached

    def score(self, step: int, encoder: Encoder | None, prober_name: str) -> None:
        """R_k with ``encoder`` (``None``: the model being trained), into the curriculum and the log."""
        trainer = self.trainer
        args, accelerator = trainer.config.curriculum, trainer.accelerator
        probe_bad: list[BadRow] = []

        def on_bad_row(bad: BadRow) -> None:
            probe_bad.append(bad)
            trainer.report_bad_row(bad)

        share = {"process_index": accelerator.process_index, "num_processes": accelerator.num_processes}
        sum_over_processes = partial(reduce_sum, accelerator)
        if encoder is not None:
            scorer = EncoderPairScorer(encoder, batch_size=args.probe_batch_size, on_bad_row=on_bad_row, **share)
        else:
            prober = trainer.model if is_sharded(accelerator) else accelerator.unwrap_model(trainer.model)
            embed = make_embed(prober, trainer.processor, accelerator.device, trainer.param_dtype)
            scorer = ModelPairScorer(embed, trainer.loader, batch_size=args.probe_batch_size,
                                     reduce_sum=sum_over_processes, on_bad_row=on_bad_row, **share)  # fmt: skip
        scores = probe_alignment(scorer, trainer.tasks, num_pairs=args.num_probe_pairs, probe_step=step,
                                 seed=trainer.config.training.seed, reduce_sum=sum_over_processes)  # fmt: skip
        num_bad = int(sum_over_processes(torch.tensor(len(probe_bad))))
        trainer.apply_bad_row_policy(probe_bad, num_bad, f"met while probing at step {step}")
        trainer.curriculum.set_scores(step, scores)
        self.log(step, scores, prober_name, encoder.describe()["encoder"] if encoder is not None else "gve")

    def log(self, step: int, scores: list[float], prober_name: str, prober_encoder: str) -> None:
        trainer = self.trainer
        curriculum, tasks = trainer.curriculum, trainer.tasks
        probs = curriculum.probabilities(step)
        lines = [f"  {t.spec.task:<24} R={r:+.4f}  P={float(p):.4f}" for t, r, p in zip(tasks, scores, probs)]
        who = prober_name if prober_name != "self" else "the model being trained"
        logger.info("Step %d alignment scores (prober: %s), sigma=%.3f:\n%s", step, who, curriculum.sigma(step),
                    "\n".join(lines))  # fmt: skip
        record = {"event": "curriculum", "step": step, "epoch": step // trainer.steps_per_epoch + 1,
                  "prober": prober_name, "prober_encoder": prober_encoder, "entropy": entropy(probs)}  # fmt: skip
        trainer.log({**record, **curriculum.report(step)})

    def mine(self, step: int, encoder: CachedEncoder) -> None:
        """Re-mine the hard negatives of this process's rows from the trainer's step to the period's end."""
        trainer = self.trainer
        args, accelerator, curriculum = trainer.config.curriculum, trainer.accelerator, trainer.curriculum
        seed = trainer.config.training.seed
        start, end = curriculum.period(step)
        draws = Counter(curriculum.sample_task(s, seed) for s in range(trainer.state.global_step, end))
        miner = ProberMiner(
            encoder, barrier=accelerator.wait_for_everyone, margin=args.hard_negative_margin,
            pool_size=args.hard_negative_pool_size, chunk_size=MINING_CHUNK_SIZE, batch_size=args.probe_batch_size,
            seed=seed, process_index=accelerator.process_index, num_processes=accelerator.num_processes,
        )  # fmt: skip
        draws_per_task, positions = [draws[k] for k in range(len(trainer.tasks))], dict(trainer.planner.positions)
        trainer.planner.negatives = mine_period(miner, trainer.tasks, self.corpora(), positions, draws_per_task,
                                                accelerator.num_processes, probe_step=start)  # fmt: skip
        self.mined_period = start
        counts = {task: len(rows) for task, rows in trainer.planner.negatives.items()}
        logger.info("Step %d: hard negatives re-mined by the prober for %s rows", start, counts)

    def corpora(self) -> dict[str, TaskData]:
        """The ``negatives_corpus`` datasets of the mixture's tasks, opened once."""
        if self._corpora is None:
            trainer, self._corpora = self.trainer, {}
            data_args = trainer.config.data
            for task in (t for t in trainer.tasks if t.spec.negatives_corpus):
                spec = dataclasses.replace(task.spec, task=f"{task.spec.task}/corpus", path=task.spec.negatives_corpus,
                                           streaming=False, instruction=task.instruction, direction=None)  # fmt: skip
                dataset, resolver = open_dataset(spec.path, spec, data_args.root(), data_args.cache_dir)
                self._corpora[task.spec.task] = TaskData(spec, dataset, resolver, trainer.config.training.seed,
                                                         data_args.shuffle_buffer_size)  # fmt: skip
        return self._corpora

    def prune_caches(self) -> None:
        """Drop the probe caches no kept checkpoint can resume into (main process)."""
        trainer = self.trainer
        kept = complete_checkpoints(trainer.output_dir / "checkpoints")
        if not kept:
            return
        needed = trainer.curriculum.period(min(kept)[0])[0]  # the probe of the oldest checkpoint's period
        for folder in (trainer.output_dir / "probes").glob("step-*"):
            step = folder.name.removeprefix("step-")
            if step.isdigit() and int(step) < needed:
                shutil.rmtree(folder, ignore_errors=True)


__all__ = ["MINING_CHUNK_SIZE", "CurriculumProbe", "reduce_sum"]
