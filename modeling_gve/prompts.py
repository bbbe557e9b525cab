# Copyright 2026 The GVE package authors. Apache-2.0.
"""GVE's query instructions: the 16 UVRB task prompts, and one instruction per task direction.

GVE puts the instruction in the system turn of a query's prompt; candidates (what is searched)
use ``DEFAULT_INSTRUCTION``. This is the single copy of these strings.

`UVRB_PROMPTS` (SPEC §2; paper Table 5), keyed by task name, is read by the UVRB task registry
and the sentence-transformers prompts.

`DIRECTION_PROMPTS`, keyed by direction (``T2V``: text query, video candidates; ``TI2V``: text +
image query...), is the instruction of a query when only its direction is known: training tasks
without an instruction in the mixture, hard-negative mining in V-SynFlow, and ``gve search``. One
table, so that hard negatives are mined, and folders searched, with the query embeddings training
produces. How each wording was chosen:

* a direction UVRB evaluates takes the prompt of its UVRB task, the wording GVE is scored with:
  I2V = MSRVTT-I2V, V2V = LoVR-C2V (the only clip -> video task, which is what V2V trains: a clip
  -> its source video), TI2V = MS-TI, TV2V = MS-TV. T2V has twelve UVRB tasks whose prompts name
  their dataset's angle (spatial, temporal, camera motion, keywords, long...); it takes the one
  without such an angle, DREAM-E's "Find the video according to the text description.";
* the other directions (text and image tasks, trained in the pyramid's lower tiers; UVRB has none)
  keep the training recipe's wording. The paper does not publish its training instructions.
"""

from __future__ import annotations

import importlib
from typing import Any

UVRB_PROMPTS: dict[str, str] = {
    "MSRVTT": "Find the clip that corresponds to the described scene in the given video.",
    "DiDeMo": "Find a video that includes the following described scenes.",
    "CRB-G": "Find the video according to the general text description.",
    "CRB-S": "Find the video according to the spatial description.",
    "VDC-O": "Find the video according to the object description.",
    "CRB-T": "Find the video according to the temporal description.",
    "CMRB": "Find the video according to the camera motion description.",
    "DREAM-E": "Find the video according to the text description.",
    "LoVR-TH": "Find the video according to text description about video theme information.",
    "PEV-K": "Find the video according to the text description of a series of keywords.",
    "LoVR-V": "Find the long video according to the long text description.",
    "VDC-D": "Find the video according to the detailed text description.",
    "MS-TI": "Find the video clip that corresponds to the given text and the given image.",
    "MS-TV": "Find the video clip that corresponds to the given text and the given video.",
    "MSRVTT-I2V": "Find the video according to the image.",
    "LoVR-C2V": "Find the original long video according to the short video clip.",
}

# Directions UVRB evaluates -> the UVRB task whose prompt they use (see the module docstring).
DIRECTION_UVRB_TASK: dict[str, str] = {
    "T2V": "DREAM-E",
    "I2V": "MSRVTT-I2V",
    "V2V": "LoVR-C2V",
    "TI2V": "MS-TI",
    "TV2V": "MS-TV",
}

DIRECTION_PROMPTS: dict[str, str] = {
    "T2T": "Retrieve the text that matches the given text.",
    "T2I": "Find an image that matches the given text.",
    "I2T": "Find a text that describes the given image.",
    "I2I": "Find an image similar to the given image.",
    "TI2T": "Find a text that answers the given question about the given image.",
    "TI2I": "Find the image that matches the given image modified by the given text.",
    "TI2TI": "Find an image and text that match the given image and text.",
    "T2TI": "Find an image and text that match the given text.",
    **{direction: UVRB_PROMPTS[task] for direction, task in DIRECTION_UVRB_TASK.items()},
}

def __getattr__(name: str) -> Any:
    # DEFAULT_INSTRUCTION's home imports torch; these tables are read by `gve synthesize --help`
    if name == "DEFAULT_INSTRUCTION":
        return importlib.import_module(f"{__package__}.processing_gve").DEFAULT_INSTRUCTION
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["DEFAULT_INSTRUCTION", "DIRECTION_PROMPTS", "DIRECTION_UVRB_TASK", "UVRB_PROMPTS"]
