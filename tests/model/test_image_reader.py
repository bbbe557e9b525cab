"""`image_reader`: "gve" fixes qwen-vl-utils' EXIF, bit-depth and transparency faults;
"reference" is qwen-vl-utils exactly; both agree on ordinary images."""

import json

import numpy as np
import pytest
import qwen_vl_utils
from PIL import Image

from modeling_gve import GVEProcessor, SamplingConfig, VideoFrames
from modeling_gve.video import read_image, read_video

BOUNDS = {"min_pixels": 4 * 784, "max_pixels": 256 * 784}


def reference(path):
    return np.asarray(qwen_vl_utils.fetch_image({"image": str(path), **BOUNDS}))


def ours(path, image_reader):
    return np.asarray(read_image(path, image_reader=image_reader))


def two_tone(size=(112, 56)):
    """Red left half, blue right half: any rotation or mirroring shows."""
    array = np.zeros((size[1], size[0], 3), dtype=np.uint8)
    array[:, : size[0] // 2] = (220, 30, 30)
    array[:, size[0] // 2 :] = (30, 30, 220)
    return Image.fromarray(array)


@pytest.fixture(scope="module")
def odd(tmp_path_factory):
    """Images qwen-vl-utils reads wrongly, and the 8-bit RGB image each should look like."""
    root = tmp_path_factory.mktemp("odd")
    upright = two_tone()
    upright.save(root / "upright.png")
    files = {}
    # a phone photo: pixels stored rotated, EXIF orientation 6 ("rotate 90° clockwise to view")
    exif = Image.Exif()
    exif[0x0112] = 6
    upright.transpose(Image.Transpose.ROTATE_90).save(root / "rotated.jpg", exif=exif, quality=100, subsampling=0)
    upright.save(root / "upright.jpg", quality=100, subsampling=0)
    files["exif"] = (root / "rotated.jpg", np.asarray(upright.convert("RGB")))
    # 16-bit grayscale gradient, and the same as float TIFFs in 0-1 and 0-65535
    ramp = np.tile(np.linspace(0, 65535, 112), (56, 1))
    expected = np.repeat(np.rint(ramp / 257).astype(np.uint8)[..., None], 3, axis=-1)
    Image.fromarray(ramp.astype(np.uint16)).save(root / "gray16.png")  # mode I;16
    Image.fromarray((ramp / 65535).astype(np.float32)).save(root / "unit.tif")  # mode F, 0-1
    Image.fromarray(ramp.astype(np.float32)).save(root / "float16.tif")  # mode F, 0-65535
    for name in ("gray16.png", "unit.tif", "float16.tif"):
        files[name] = (root / name, expected)
    # gray + alpha: half transparent black on the left, opaque gray on the right
    la = np.zeros((56, 112, 2), dtype=np.uint8)
    la[:, :56] = (0, 0)
    la[:, 56:] = (128, 255)
    Image.fromarray(la, "LA").save(root / "la.png")
    white_gray = np.zeros((56, 112, 3), dtype=np.uint8)
    white_gray[:, :56], white_gray[:, 56:] = 255, 128
    files["la"] = (root / "la.png", white_gray)
    # palette with a transparent index
    palette = Image.fromarray(np.where(np.arange(112) < 56, 0, 1).astype(np.uint8)[None].repeat(56, 0), "P")
    palette.putpalette([0, 0, 0, 128, 128, 128] + [0] * 762)
    palette.info["transparency"] = 0
    palette.save(root / "palette.png", transparency=0)
    files["palette"] = (root / "palette.png", white_gray)
    return root, files


def resized(expected):
    """``expected`` through the same resize the readers apply."""
    return np.asarray(read_image(Image.fromarray(expected), image_reader="reference"))


@pytest.mark.parametrize("case", ["exif", "gray16.png", "unit.tif", "float16.tif", "la", "palette"])
def test_gve_reader_fixes_the_reference_faults(odd, case):
    path, expected = odd[1][case]
    got, want = ours(path, "gve").astype(int), resized(expected).astype(int)
    assert got.shape == want.shape
    tolerance = 3 if case == "exif" else 1  # JPEG, at quality 100
    assert np.abs(got - want).max() <= tolerance, case
    # ... where qwen-vl-utils does not: sideways, near-white or black, transparency dropped
    theirs = reference(path).astype(int)
    assert theirs.shape != want.shape or np.abs(theirs - want).max() > 50


@pytest.mark.parametrize("case", ["exif", "gray16.png", "unit.tif", "float16.tif", "la", "palette"])
def test_reference_reader_is_qwen_vl_utils_exactly(odd, case):
    path, _ = odd[1][case]
    assert np.array_equal(ours(path, "reference"), reference(path))


def test_ordinary_images_are_the_same_in_both_modes(odd, media, tmp_path):
    rgba = Image.new("RGBA", (80, 60), (255, 0, 0, 90))
    rgba.save(tmp_path / "rgba.png")
    Image.open(media["image2"]).convert("L").save(tmp_path / "gray.png")
    for path in (
        media["image"],
        media["image2"],
        odd[0] / "upright.jpg",
        tmp_path / "rgba.png",
        tmp_path / "gray.png",
    ):
        assert np.array_equal(ours(path, "gve"), reference(path)), path
        assert np.array_equal(ours(path, "reference"), reference(path)), path


def test_exif_orientation_applies_to_frames_too(odd):
    path, upright = odd[1]["exif"]
    gve = read_video(VideoFrames([str(path)] * 4, fps=1.0), image_reader="gve")
    ref = read_video(VideoFrames([str(path)] * 4, fps=1.0), image_reader="reference")
    assert gve.frames.shape[-1] > gve.frames.shape[-2]  # upright: wider than high
    assert ref.frames.shape[-1] < ref.frames.shape[-2]  # as stored: sideways


def test_image_reader_is_a_saved_sampling_setting(gve_model, odd, tmp_path):
    path, _ = odd[1]["gray16.png"]
    processor = gve_model.processor
    default = processor.process([{"image": path}])["pixel_values"]
    as_reference = processor.process([{"image": path}], image_reader="reference")["pixel_values"]
    assert not np.allclose(default.numpy(), as_reference.numpy())
    # saved with the processor, read back, and used
    saved = GVEProcessor(
        processor.image_processor,
        processor.tokenizer,
        processor.video_processor,
        sampling={"image_reader": "reference"},
    )
    saved.save_pretrained(tmp_path / "proc")
    assert (
        json.loads((tmp_path / "proc" / "processor_config.json").read_text())["sampling"]["image_reader"]
        == "reference"
    )
    loaded = GVEProcessor.from_pretrained(tmp_path / "proc")
    assert loaded.sampling_config().image_reader == "reference"
    assert np.allclose(loaded.process([{"image": path}])["pixel_values"].numpy(), as_reference.numpy())
    with pytest.raises(ValueError, match="image_reader must be 'gve' or 'reference', got 'qwen'"):
        SamplingConfig(image_reader="qwen")
