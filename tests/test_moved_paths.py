"""Names that moved keep working for one release, with a FutureWarning naming their new home."""

import importlib
import sys

import pytest


@pytest.mark.parametrize(
    "old, new, name",
    [
        ("modeling_gve.uvrb.testing", "modeling_gve.testing.mini_uvrb", "make_mini_uvrb"),
        ("modeling_gve.training.synthetic", "modeling_gve.testing.synthetic_tasks", "make_synthetic_run"),
        ("modeling_gve.synthesis.loopback", "modeling_gve.testing.loopback", "LoopbackChatServer"),
        ("modeling_gve.recipe_config", "modeling_gve.args", "RecipeConfig"),
    ],
)
def test_moved_modules_warn_and_keep_their_names(old, new, name):
    sys.modules.pop(old, None)
    with pytest.warns(FutureWarning, match=f"{old} is deprecated .* use {new} instead"):
        module = importlib.import_module(old)
    assert getattr(module, name) is getattr(importlib.import_module(new), name)


@pytest.mark.parametrize(
    "name, home",
    [("make_video", "media"), ("make_image", "media"), ("make_tiny_checkpoint", "tiny")],
)
def test_the_testing_module_became_a_package(name, home):
    import modeling_gve.testing

    with pytest.warns(FutureWarning, match=f"use modeling_gve.testing.{home}.{name} instead"):
        value = getattr(modeling_gve.testing, name)
    assert value is getattr(importlib.import_module(f"modeling_gve.testing.{home}"), name)


def test_push_dataset_warns_and_publishes(monkeypatch, tmp_path):
    from modeling_gve.hub import cli, publish

    calls = []
    monkeypatch.setattr(cli, "publish_dataset", lambda *args, **kwargs: calls.append((args, kwargs)))
    with pytest.warns(FutureWarning, match="use modeling_gve.hub.publish.publish_dataset instead"):
        assert cli.push_dataset(tmp_path, "me/data", kind="vsynflow", private=True) == 0
    assert calls == [((tmp_path, "me/data"), {"kind": "vsynflow", "private": True})]
    assert publish.publish_dataset.__kwdefaults__["kind"] == "auto"  # a real signature, not a Namespace
