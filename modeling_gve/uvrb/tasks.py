# Copyright 2026 The GVE package authors. Apache-2.0.
"""The 16 UVRB tasks, declared as data: the single source of names, prompts, metrics,
domains and shared corpora. Dataset cards, `datasets` configs, the runner, the metric
module and the reports are all generated from `TASKS`.

Paper: "Towards Universal Video Retrieval" (arXiv 2510.27571), §3.1, §A.2, Tables 1, 4, 5.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, get_args

from ..suggest import did_you_mean

TaskType = Literal["TXT", "CMP", "VIS"]
Domain = Literal["CG", "FG-S", "FG-T", "FG-PR", "LC"]
MainMetric = Literal["R@1", "R@10", "P@1"]
QueryModality = Literal["text", "image", "video", "text+image", "text+video"]
Ranking = Literal["corpus", "per-query"]

HUB_REPO = "Alibaba-NLP/UVRB"
UVRB_CITATION = """\
@article{guo2025gve,
  title={Towards Universal Video Retrieval: Generalizing Video Embedding via Synthesized Multimodal Pyramid Curriculum},
  author={Guo, Zhuoning and Li, Mingxin and Zhang, Yanzhao and Long, Dingkun and Xie, Pengjun and Chu, Xiaowen},
  journal={arXiv preprint arXiv:2510.27571},
  year={2025}
}
"""


@dataclass(frozen=True, kw_only=True)
class UVRBTask:
    """One UVRB dataset, declared with keywords only (mteb's task-metadata shape): a record reads
    without counting commas, and a misspelt field is an error, not a silent default.

    Args:
        name (`str`): short name used everywhere (``"MSRVTT"``, ``"CRB-G"``...).
        full_name (`str`): the dataset's name in the paper's Table 4.
        task_type (`"TXT"`, `"CMP"` or `"VIS"`): textual, composed or visual query.
        domain (`"CG"`, `"FG-S"`, `"FG-T"`, `"FG-PR"`, `"LC"` or `None`): the TXT tasks' domain
            (coarse-grained, fine-grained spatial / temporal / partially relevant, long context);
            ``None`` for CMP and VIS tasks, which the paper does not split by domain.
        main_metric (`"R@1"`, `"R@10"` or `"P@1"`): the metric the paper reports (R@k is a hit rate).
        prompt (`str`): the query instruction (system turn); candidates get the default one.
        query_modality (`str`): what a query holds.
        corpus_group (`str`): tasks with the same group rank the same videos, so an embedding
            cache keyed by media content encodes them once.
        hub_folder (`str`, *optional*): the task's folder in the Hub dataset repo and in local
            copies; defaults to ``name``.
        num_queries, num_corpus (`int`): sizes in the paper (for ``per-query`` ranking,
            ``num_corpus`` is the number of candidates per query).
        ranking (`"corpus"` or `"per-query"`): rank the whole corpus, or only each query's own
            candidate list (MS-TI / MS-TV, MomentSeeker style).
        source (`str`): where the data comes from (for cards).
        media_license (`str`): the terms under which the task's videos and images may be
            re-hosted: the license id of the source's card where it covers the media (``"mit"``,
            ``"cc-by-4.0"``), ``"index-only"`` (the source forbids re-hosting its videos: publish
            the JSONL, not the media) or ``"unknown"`` (not established by this project).
            ``gve hub push-dataset`` uploads index-only or unknown media only when told
            ``--allow-redistribution``.
    """

    name: str
    full_name: str
    task_type: TaskType
    domain: Domain | None
    main_metric: MainMetric
    prompt: str
    query_modality: QueryModality
    corpus_group: str
    num_queries: int
    num_corpus: int
    hub_folder: str = ""
    ranking: Ranking = "corpus"
    source: str = ""
    media_license: str = "unknown"

    def __post_init__(self) -> None:
        if not self.hub_folder:
            object.__setattr__(self, "hub_folder", self.name)  # frozen: set once, here
        for field, allowed in (
            ("task_type", get_args(TaskType)),
            ("main_metric", get_args(MainMetric)),
            ("query_modality", get_args(QueryModality)),
            ("ranking", get_args(Ranking)),
        ):
            _check_choice(f"{self.name}.{field}", getattr(self, field), allowed)
        if self.task_type == "TXT":
            _check_choice(f"{self.name}.domain", self.domain, get_args(Domain))
        elif self.domain is not None:
            raise ValueError(f"{self.name}: only TXT tasks have a domain, got domain={self.domain!r}")

    @classmethod
    def from_dict(cls, record: dict) -> UVRBTask:
        """Build from a mapping; unknown keys are errors with a suggestion."""
        names = [f.name for f in dataclasses.fields(cls)]
        for key in record:
            if key not in names:
                hint = did_you_mean(key, names, cutoff=0.5)
                raise TypeError(f"Unknown UVRBTask field {key!r}{hint} Valid fields: {', '.join(names)}.")
        return cls(**record)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def _check_choice(what: str, value: object, allowed: tuple) -> None:
    if value not in allowed:
        raise ValueError(f"{what} must be one of {', '.join(map(repr, allowed))}; got {value!r}")


# In the paper's column order (Table 1). Sizes from Table 4, prompts from Table 5.
TASKS: dict[str, UVRBTask] = {
    t.name: t
    for t in (
        UVRBTask(
            name="MSRVTT",
            full_name="MSRVTT",
            task_type="TXT",
            domain="CG",
            main_metric="R@1",
            prompt="Find the clip that corresponds to the described scene in the given video.",
            query_modality="text",
            corpus_group="MSRVTT",
            num_queries=1000,
            num_corpus=1000,
            source="Xu et al. (2016), JSFusion 1k-A test split",
        ),
        UVRBTask(
            name="DiDeMo",
            full_name="DiDeMo",
            task_type="TXT",
            domain="CG",
            main_metric="R@1",
            prompt="Find a video that includes the following described scenes.",
            query_modality="text",
            corpus_group="DiDeMo",
            num_queries=1004,
            num_corpus=1004,
            source="Anne Hendricks et al. (2017), paragraph-to-video",
        ),
        UVRBTask(
            name="CRB-G",
            full_name="CaReBench-General",
            task_type="TXT",
            domain="CG",
            main_metric="R@1",
            prompt="Find the video according to the general text description.",
            query_modality="text",
            corpus_group="CaReBench",
            num_queries=1000,
            num_corpus=1000,
            source="Xu et al. (2025), caption field",
            media_license="mit",
        ),
        UVRBTask(
            name="CRB-S",
            full_name="CaReBench-Spatial",
            task_type="TXT",
            domain="FG-S",
            main_metric="R@1",
            prompt="Find the video according to the spatial description.",
            query_modality="text",
            corpus_group="CaReBench",
            num_queries=1000,
            num_corpus=1000,
            source="Xu et al. (2025), spatial_caption field",
            media_license="mit",
        ),
        UVRBTask(
            name="VDC-O",
            full_name="VDC-Object",
            task_type="TXT",
            domain="FG-S",
            main_metric="R@1",
            prompt="Find the video according to the object description.",
            query_modality="text",
            corpus_group="VDC",
            num_queries=1027,
            num_corpus=1027,
            source="Chai et al. (2024), main_object_caption field",
        ),
        UVRBTask(
            name="CRB-T",
            full_name="CaReBench-Temporal",
            task_type="TXT",
            domain="FG-T",
            main_metric="R@1",
            prompt="Find the video according to the temporal description.",
            query_modality="text",
            corpus_group="CaReBench",
            num_queries=1000,
            num_corpus=1000,
            source="Xu et al. (2025), temporal_caption field",
            media_license="mit",
        ),
        UVRBTask(
            name="CMRB",
            full_name="CameraBench",
            task_type="TXT",
            domain="FG-T",
            main_metric="R@10",
            prompt="Find the video according to the camera motion description.",
            query_modality="text",
            corpus_group="CMRB",
            num_queries=728,
            num_corpus=1071,
            source="Lin et al. (2025), camera motion annotations",
            media_license="cc-by-4.0",
        ),
        UVRBTask(
            name="DREAM-E",
            full_name="DREAM-1K-Event",
            task_type="TXT",
            domain="FG-PR",
            main_metric="R@1",
            prompt="Find the video according to the text description.",
            query_modality="text",
            corpus_group="DREAM-E",
            num_queries=6251,
            num_corpus=1000,
            source="Wang et al. (2024b), event descriptions",
        ),
        UVRBTask(
            name="LoVR-TH",
            full_name="LoVR-Theme2Clip",
            task_type="TXT",
            domain="FG-PR",
            main_metric="R@10",
            prompt="Find the video according to text description about video theme information.",
            query_modality="text",
            corpus_group="LoVR-TH",
            num_queries=8854,
            num_corpus=8854,
            source="Cai et al. (2025), clip theme annotations",
            media_license="index-only",  # LoVR's clips and videos come from LongVideoBench: index only
        ),
        UVRBTask(
            name="PEV-K",
            full_name="PE-Video-Keyword",
            task_type="TXT",
            domain="FG-PR",
            main_metric="R@1",
            prompt="Find the video according to the text description of a series of keywords.",
            query_modality="text",
            corpus_group="PEV-K",
            num_queries=14427,
            num_corpus=15000,
            source="Bolya et al. (2025), keyword field of the test set",
        ),
        UVRBTask(
            name="LoVR-V",
            full_name="LoVR-Text2Video",
            task_type="TXT",
            domain="LC",
            main_metric="R@1",
            prompt="Find the long video according to the long text description.",
            query_modality="text",
            corpus_group="LoVR",
            num_queries=100,
            num_corpus=467,
            source="Cai et al. (2025), full-length video captions",
            media_license="index-only",  # LongVideoBench's policy: index only
        ),
        UVRBTask(
            name="VDC-D",
            full_name="VDC-Detail",
            task_type="TXT",
            domain="LC",
            main_metric="R@1",
            prompt="Find the video according to the detailed text description.",
            query_modality="text",
            corpus_group="VDC",
            num_queries=1000,
            num_corpus=1027,
            source="Chai et al. (2024), detailed_caption field",
        ),
        UVRBTask(
            name="MS-TI",
            full_name="MomentSeeker-Text-Image",
            task_type="CMP",
            domain=None,
            main_metric="P@1",
            prompt="Find the video clip that corresponds to the given text and the given image.",
            query_modality="text+image",
            corpus_group="MS-TI",
            num_queries=400,
            num_corpus=10,
            ranking="per-query",
            source="Yuan et al. (2025), MMEB-V2 adaptation",
        ),
        UVRBTask(
            name="MS-TV",
            full_name="MomentSeeker-Text-Video",
            task_type="CMP",
            domain=None,
            main_metric="P@1",
            prompt="Find the video clip that corresponds to the given text and the given video.",
            query_modality="text+video",
            corpus_group="MS-TV",
            num_queries=400,
            num_corpus=10,
            ranking="per-query",
            source="Yuan et al. (2025), MMEB-V2 adaptation",
        ),
        UVRBTask(
            name="MSRVTT-I2V",
            full_name="MSRVTT-ImageVideo",
            task_type="VIS",
            domain=None,
            main_metric="R@1",
            prompt="Find the video according to the image.",
            query_modality="image",
            corpus_group="MSRVTT",
            num_queries=1000,
            num_corpus=1000,
            source="Xu et al. (2016), one random frame per video as the query",
        ),
        UVRBTask(
            name="LoVR-C2V",
            full_name="LoVR-Clip-to-Video",
            task_type="VIS",
            domain=None,
            main_metric="R@1",
            prompt="Find the original long video according to the short video clip.",
            query_modality="video",
            corpus_group="LoVR",
            num_queries=467,
            num_corpus=467,
            source="Cai et al. (2025), one short clip per long video as the query",
            media_license="index-only",  # LongVideoBench's policy: index only
        ),
    )
}


def task_prompts() -> dict[str, str]:
    """Each task's query instruction by task name, in the paper's order (for example the named
    prompts of a GVE checkpoint loaded with sentence-transformers)."""
    return {name: task.prompt for name, task in TASKS.items()}


# Ability columns of the paper's Table 2 and the tasks (or abilities) each one averages.
# S, T, PR, CG, LC, CMP, VIS average tasks; FG, TXT and AVG-A average other abilities.
SUB_DOMAINS = {"S": "FG-S", "T": "FG-T", "PR": "FG-PR"}
ABILITY_COLUMNS = ("TXT", "CMP", "VIS", "CG", "FG", "LC", "S", "T", "PR")


# The partially relevant and long-context tasks (PR, LC: DREAM-E, LoVR-TH, PEV-K, LoVR-V, VDC-D): a
# query matches a part of a longer video, so ``gve uvrb --segment-seconds S`` may score their
# corpus videos by their best segment.
SEGMENT_DOMAINS = ("FG-PR", "LC")


def segment_tasks() -> list[UVRBTask]:
    """The tasks ``--segment-seconds`` applies to (`SEGMENT_DOMAINS`), in the paper's order."""
    return [t for t in TASKS.values() if t.domain in SEGMENT_DOMAINS]


def ability_tasks(ability: str) -> list[UVRBTask]:
    """The tasks an ability column is computed from (``"FG"`` -> the 7 fine-grained tasks)."""
    _check_choice("ability", ability, ABILITY_COLUMNS)
    if ability in ("TXT", "CMP", "VIS"):
        return [t for t in TASKS.values() if t.task_type == ability]
    if ability == "FG":
        return [t for t in TASKS.values() if (t.domain or "").startswith("FG-")]
    domain = SUB_DOMAINS.get(ability, ability)
    return [t for t in TASKS.values() if t.domain == domain]


def get_task(name: str) -> UVRBTask:
    """The task called ``name``; unknown names fail with a suggestion."""
    if name not in TASKS:
        raise KeyError(f"Unknown UVRB task {name!r}{did_you_mean(name, TASKS, cutoff=0.5)} Tasks: {', '.join(TASKS)}.")
    return TASKS[name]


def resolve_tasks(selection: Iterable[str] | str | None = None) -> list[UVRBTask]:
    """Tasks for a selection of task names and/or ability names (``"FG"``, ``"CMP"``...), in
    the paper's order, without duplicates. ``None``, ``"all"`` or an empty selection: all 16.

    Raises:
        KeyError: an unknown name, with a "did you mean".
    """
    if isinstance(selection, str):
        selection = [s for s in selection.replace(",", " ").split() if s]
    selection = list(selection or [])
    if not selection or selection == ["all"]:
        return list(TASKS.values())
    chosen: set[str] = set()
    for name in selection:
        if name in TASKS:
            chosen.add(name)
        elif name in ABILITY_COLUMNS:
            chosen.update(t.name for t in ability_tasks(name))
        else:
            choices = list(TASKS) + list(ABILITY_COLUMNS)
            raise KeyError(
                f"Unknown UVRB task {name!r}{did_you_mean(name, choices, cutoff=0.5)} "
                f"Tasks: {', '.join(TASKS)}; or an ability: {', '.join(ABILITY_COLUMNS)}."
            )
    return [t for t in TASKS.values() if t.name in chosen]


__all__ = [
    "ABILITY_COLUMNS",
    "HUB_REPO",
    "TASKS",
    "UVRB_CITATION",
    "UVRBTask",
    "SEGMENT_DOMAINS",
    "ability_tasks",
    "get_task",
    "resolve_tasks",
    "segment_tasks",
    "task_prompts",
]
