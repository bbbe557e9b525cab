"""One query instruction per task direction (modeling_gve.prompts), shared by training, hard-negative
mining and `gve search`, and worded as UVRB evaluates where UVRB has the direction."""

from modeling_gve.prompts import DIRECTION_PROMPTS, UVRB_PROMPTS
from modeling_gve.search import QUERY_INSTRUCTIONS, query_direction
from modeling_gve.synthesis.negatives import TASK_INSTRUCTIONS
from modeling_gve.training.data import DEFAULT_INSTRUCTIONS, default_instruction
from modeling_gve.uvrb import TASKS


def test_training_mining_and_search_use_the_same_instruction_per_direction():
    directions = set(DEFAULT_INSTRUCTIONS) | set(TASK_INSTRUCTIONS) | {query_direction(k) for k in QUERY_INSTRUCTIONS}
    for direction in directions:
        used = {default_instruction(direction), DIRECTION_PROMPTS[direction]}
        if direction in TASK_INSTRUCTIONS:
            used.add(TASK_INSTRUCTIONS[direction])
        used |= {text for kind, text in QUERY_INSTRUCTIONS.items() if query_direction(kind) == direction}
        assert len(used) == 1, (direction, used)
    # V-SynFlow mines negatives for every UVRD task direction with training's instructions
    for direction in ("T2T", "T2I", "T2V", "I2V", "V2V", "TI2V", "TV2V"):
        assert TASK_INSTRUCTIONS[direction] == default_instruction(direction)


def test_directions_uvrb_evaluates_use_a_uvrb_prompt_of_that_direction():
    by_direction: dict[str, set[str]] = {}
    for task in TASKS.values():
        by_direction.setdefault(query_direction(task.query_modality), set()).add(task.prompt)
    assert set(by_direction) == {"T2V", "I2V", "V2V", "TI2V", "TV2V"}
    for direction, prompts in by_direction.items():
        assert DIRECTION_PROMPTS[direction] in prompts, direction
    assert DIRECTION_PROMPTS["V2V"] == UVRB_PROMPTS["LoVR-C2V"]  # the one clip -> video task
    assert DIRECTION_PROMPTS["T2V"] == UVRB_PROMPTS["DREAM-E"] == "Find the video according to the text description."
