"""The task-direction vocabulary (`modeling_gve.directions`): names, modalities, the one table of
query instructions, and the Modality Pyramid tiers."""

import pytest

from modeling_gve.directions import INSTRUCTIONS, Direction, instruction, of, parse, tier
from modeling_gve.uvrb.tasks import TASKS


def test_every_direction_in_the_table_parses_back_to_its_name():
    for name in INSTRUCTIONS:
        direction = parse(name)
        assert direction.name == str(direction) == name
        assert of(direction.query, direction.candidate) == direction
    assert (
        parse("TI2V")
        == of(["image", "text"], ["video"])
        == Direction(frozenset({"text", "image"}), frozenset({"video"}))
    )
    assert of({"video", "text"}, ["video"]).name == "TV2V"  # letters always in T, I, V order


@pytest.mark.parametrize(
    ("name", "hint"),
    [("IT2V", "did you mean 'TI2V'?"), ("T2X", "did you mean 'T2V'?"), ("ti2v", "did you mean 'TI2V'?"), ("", ".")],
)
def test_malformed_names_are_refused_with_a_suggestion(name, hint):
    with pytest.raises(ValueError, match=f"not a task direction: {name!r}") as error:
        parse(name)
    assert hint in str(error.value) and "T (text), I (image), V (video)" in str(error.value)


def test_directions_need_known_non_empty_modalities():
    with pytest.raises(ValueError, match="at least one candidate modality"):
        of(["text"], [])
    with pytest.raises(ValueError, match="unknown modality 'audio'"):
        of(["audio"], ["video"])


def test_a_direction_outside_the_table_has_no_generated_instruction():
    """One table: an unknown direction is an error naming it and the table, never a made-up sentence."""
    with pytest.raises(
        ValueError, match=r"no query instruction for direction 'IV2V': modeling_gve.directions.INSTRUCTIONS"
    ):
        instruction("IV2V")
    assert instruction(parse("T2V")) == INSTRUCTIONS["T2V"]


def test_directions_uvrb_evaluates_use_the_prompt_of_one_of_their_uvrb_tasks():
    prompts_by_direction: dict[str, set] = {}
    for task in TASKS.values():
        direction = of(task.query_modality.split("+"), ["video"]).name
        prompts_by_direction.setdefault(direction, set()).add(task.prompt)
    assert set(prompts_by_direction) == {"T2V", "I2V", "V2V", "TI2V", "TV2V"}
    for direction, prompts in prompts_by_direction.items():
        assert instruction(direction) in prompts, direction
    assert instruction("V2V") == TASKS["LoVR-C2V"].prompt  # the one clip -> video task
    assert instruction("T2V") == TASKS["DREAM-E"].prompt == "Find the video according to the text description."


def test_pyramid_tiers():
    listed = ("T2T", "T2I", "TI2I", "TI2T", "TI2TI", "I2I", "T2V", "I2V", "V2V", "TI2V", "TV2V")
    assert [tier(d) for d in listed] == [1, 1, 2, 2, 2, 2, 3, 3, 3, 4, 4]
    assert [tier(d) for d in ("I2T", "T2TI", "IV2V", "T2TV")] == [1, 2, 4, 4]  # extended by modality
