# Copyright 2026 The GVE package authors. Apache-2.0.
"""The MLLM captioner behind one interface, with two backends.

- `OpenAICompatibleCaptioner`: any server speaking the OpenAI chat-completions API (vLLM,
  SGLang, TGI...). Requests run concurrently on an asyncio loop (``concurrency`` in flight),
  each bounded by ``timeout`` seconds and retried with exponential backoff on timeouts,
  connection errors, 429 and 5xx.
- `TransformersCaptioner`: a local transformers vision-language model
  (``AutoModelForImageTextToText``, e.g. Qwen2.5-VL / Keye-VL style), generating in batches.

Both take `Job`s (a `CaptionRequest` and its attempt number) and yield one `Completion` per
job as it finishes: the raw answer text, or an error with its kind. Validation and retries of
invalid answers are the caller's (`enrich.py`), so both backends behave the same there.
Videos are sampled with GVE's reader (`modeling_gve.video.read_video`) wherever frames are
needed; images are resized with `read_image`.
"""

from __future__ import annotations

import asyncio
import base64
import io
import mimetypes
import os
import queue
import random
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator, Literal, Protocol

from ..video import IMAGE_FACTOR, GVEInputError, read_image, read_video
from .prompts import CaptionRequest, MediaRef

if TYPE_CHECKING:
    from .config import CaptionerArguments

ErrorKind = Literal["transient", "request", "input"]


@dataclass
class Job:
    """One generation of a request; ``attempt`` counts from 1."""

    request: CaptionRequest
    attempt: int = 1

    def seed(self, base: int) -> int:
        """Sampling seed of this attempt: deterministic, different per attempt."""
        return random.Random(f"{base}:{self.request.key}:{self.attempt}").randrange(2**31)


@dataclass
class Completion:
    """The outcome of one `Job`.

    Attributes:
        text: the answer (``None`` on error).
        error: why there is no answer.
        error_kind: ``"transient"`` (timeouts, connection, 429/5xx after all retries: left for a
            later run), ``"request"`` (the server refused or answered nonsense: counts as a failed
            attempt), ``"input"`` (the media could not be read: retrying cannot help).
        seconds: wall time of the job, retries included.
    """

    job: Job
    text: str | None = None
    error: str | None = None
    error_kind: ErrorKind | None = None
    seconds: float = 0.0
    retries: int = 0


class Captioner(Protocol):
    name: str

    def complete(self, jobs: Iterable[Job]) -> Iterator[Completion]:
        """One `Completion` per job, in completion order; ``jobs`` is consumed lazily."""
        ...


def _frames_of(path: str, num_frames: int, max_pixels: int):
    """GVE's sampler with the captioner's frame count and pixel budget."""
    return read_video(
        path,
        fps=1e6,
        min_frames=num_frames,
        max_frames=num_frames,
        min_pixels=16 * IMAGE_FACTOR * IMAGE_FACTOR,
        max_pixels=max_pixels,
        max_total_pixels=max_pixels * num_frames,
        seek_mode="approximate",  # trust the header: no scan of the whole file per request
    )


def _jpeg_data_url(image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()


def strip_extensions(schema):
    """A schema without ``x-*`` keywords (guided-decoding backends may reject unknown ones)."""
    if isinstance(schema, dict):
        return {k: strip_extensions(v) for k, v in schema.items() if not k.startswith("x-")}
    if isinstance(schema, list):
        return [strip_extensions(v) for v in schema]
    return schema


class OpenAICompatibleCaptioner:
    """Captioner on an OpenAI-compatible chat endpoint (``{base_url}/chat/completions``).

    Args:
        model: the served model name.
        base_url: e.g. ``http://localhost:8000/v1`` (vLLM: ``vllm serve MODEL``; SGLang:
            ``python -m sglang.launch_server --model-path MODEL``).
        api_key: sent as a bearer token if given.
        concurrency: requests in flight.
        timeout: seconds per try of a request.
        max_retries: tries after the first on timeouts, connection errors, 429 and 5xx.
        backoff: delay before the first retry, doubled each retry (with jitter).
        video_input: ``"video_url"`` sends the file (server samples frames); ``"frames"`` sends
            ``num_frames`` frames sampled by GVE's reader as images (works with any VLM server).
        media_url: ``"data"`` inlines files as base64; ``"file"`` sends ``file://`` paths (the
            server must see the same files, e.g. vLLM ``--allowed-local-media-path``).
        guided_json: ask for schema-constrained decoding (``response_format`` json_schema).
    """

    def __init__(
        self,
        model: str,
        base_url: str,
        *,
        api_key: str | None = None,
        concurrency: int = 16,
        timeout: float = 180.0,
        max_retries: int = 3,
        backoff: float = 1.0,
        temperature: float = 0.7,
        max_tokens: int = 1024,
        guided_json: bool = False,
        video_input: Literal["video_url", "frames"] = "video_url",
        media_url: Literal["data", "file"] = "data",
        num_frames: int = 16,
        max_pixels: int = 360 * 420,
        seed: int = 0,
    ):
        if video_input not in ("video_url", "frames"):
            raise ValueError(f"video_input must be 'video_url' or 'frames', got {video_input!r}")
        if media_url not in ("data", "file"):
            raise ValueError(f"media_url must be 'data' or 'file', got {media_url!r}")
        self.name = f"openai:{model}@{base_url}"
        self.model, self.base_url = model, base_url.rstrip("/")
        self.api_key = api_key
        self.concurrency, self.timeout = concurrency, timeout
        self.max_retries, self.backoff = max_retries, backoff
        self.temperature, self.max_tokens = temperature, max_tokens
        self.guided_json = guided_json
        self.video_input, self.media_url = video_input, media_url
        self.num_frames, self.max_pixels = num_frames, max_pixels
        self.seed = seed

    # ------------------------------------------------------------------ request body

    def _media_parts(self, media: MediaRef) -> list[dict]:
        path = Path(media.path)
        if not path.is_file():
            raise GVEInputError(str(path), "file not found")
        if media.type == "image":
            if self.media_url == "file":
                return [{"type": "image_url", "image_url": {"url": path.resolve().as_uri()}}]
            image = read_image(str(path), min_pixels=4 * IMAGE_FACTOR * IMAGE_FACTOR, max_pixels=self.max_pixels)
            return [{"type": "image_url", "image_url": {"url": _jpeg_data_url(image)}}]
        if self.video_input == "frames":
            from PIL import Image

            sampled = _frames_of(str(path), self.num_frames, self.max_pixels)
            return [
                {
                    "type": "image_url",
                    "image_url": {"url": _jpeg_data_url(Image.fromarray(f.permute(1, 2, 0).numpy()))},
                }
                for f in sampled.frames
            ]
        if self.media_url == "file":
            return [{"type": "video_url", "video_url": {"url": path.resolve().as_uri()}}]
        mime = mimetypes.guess_type(path.name)[0] or "video/mp4"
        data = base64.b64encode(path.read_bytes()).decode()
        return [{"type": "video_url", "video_url": {"url": f"data:{mime};base64,{data}"}}]

    def body(self, job: Job) -> dict:
        """The chat-completions request of one job (media read and encoded here)."""
        content: list[dict] = []
        for part in job.request.parts:
            if isinstance(part, str):
                content.append({"type": "text", "text": part})
            else:
                content.extend(self._media_parts(part))
        body = {
            "model": self.model,
            "messages": [{"role": "user", "content": content}],
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "seed": job.seed(self.seed),
        }
        if self.guided_json:
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": job.request.kind, "schema": strip_extensions(job.request.schema)},
            }
        return body

    # ------------------------------------------------------------------ running

    def complete(self, jobs: Iterable[Job]) -> Iterator[Completion]:
        # The requests run on an asyncio loop in a thread; completions come back through a
        # bounded queue (a slow consumer holds the senders back instead of piling answers up).
        # When the consumer stops early (break, exception, generator closed), `stop` ends the
        # loop: no new job is read, requests in flight are cancelled, and the thread is joined
        # before this generator returns.
        results: queue.Queue = queue.Queue(maxsize=max(self.concurrency, 1))
        stop = threading.Event()
        done = object()

        def run() -> None:
            try:
                asyncio.run(self._run(iter(jobs), results, stop))
            except BaseException as err:  # noqa: BLE001 - re-raised in the consumer
                _offer(results, err, stop)
            _offer(results, done, stop)

        thread = threading.Thread(target=run, name="vsynflow-captioner", daemon=True)
        thread.start()
        try:
            while True:
                item = results.get()
                if item is done:
                    break
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()
            thread.join()

    async def _run(self, jobs: Iterator[Job], results: queue.Queue, stop: threading.Event) -> None:
        feeding = asyncio.ensure_future(self._feed(jobs, results, stop))
        while not feeding.done():  # the consumer's `stop` cannot wake the loop: look every 50 ms
            await asyncio.wait([feeding], timeout=0.05)
            if stop.is_set():
                feeding.cancel()
                break
        try:
            await feeding
        except asyncio.CancelledError:
            if not stop.is_set():
                raise

    async def _feed(self, jobs: Iterator[Job], results: queue.Queue, stop: threading.Event) -> None:
        import httpx

        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        limits = httpx.Limits(max_connections=self.concurrency, max_keepalive_connections=self.concurrency)
        slots = asyncio.Semaphore(self.concurrency)
        async with httpx.AsyncClient(
            base_url=self.base_url, headers=headers, limits=limits, timeout=httpx.Timeout(self.timeout)
        ) as client:
            pending: set[asyncio.Task] = set()

            async def one(job: Job) -> None:
                try:
                    completion = await self._one(client, job)
                    while not stop.is_set():  # wait for room in the queue without blocking the loop
                        try:
                            results.put_nowait(completion)
                            break
                        except queue.Full:
                            await asyncio.sleep(0.01)
                finally:
                    slots.release()

            try:
                for job in jobs:
                    await slots.acquire()  # at most `concurrency` jobs read, encoded, in flight or queued
                    if stop.is_set():
                        break
                    task = asyncio.create_task(one(job))
                    pending.add(task)
                    task.add_done_callback(pending.discard)
                if pending:
                    await asyncio.gather(*pending)
            finally:  # cancelled (the consumer stopped): drop the requests in flight
                for task in list(pending):
                    task.cancel()
                await asyncio.gather(*pending, return_exceptions=True)

    async def _one(self, client, job: Job) -> Completion:
        import httpx

        start = time.perf_counter()
        try:
            body = await asyncio.to_thread(self.body, job)
        except GVEInputError as err:
            return Completion(job, error=f"media {err}", error_kind="input", seconds=time.perf_counter() - start)
        headers = {"X-VSynFlow-Key": job.request.key}  # lets server logs and tests trace a request
        last = "no try made"
        for retry in range(self.max_retries + 1):
            if retry:
                await asyncio.sleep(self.backoff * 2 ** (retry - 1) * (1 + 0.25 * random.random()))
            try:
                response = await asyncio.wait_for(
                    client.post("/chat/completions", json=body, headers=headers), timeout=self.timeout
                )
            except (asyncio.TimeoutError, httpx.TimeoutException):
                last = f"timed out after {self.timeout:g}s"
                continue
            except httpx.TransportError as err:
                last = f"connection error: {type(err).__name__}: {err}"
                continue
            if response.status_code == 429 or response.status_code >= 500:
                last = f"HTTP {response.status_code}: {response.text[:200]}"
                continue
            seconds = time.perf_counter() - start
            if response.status_code >= 400:
                return Completion(
                    job,
                    error=f"HTTP {response.status_code}: {response.text[:300]}",
                    error_kind="request",
                    seconds=seconds,
                    retries=retry,
                )
            try:
                text = response.json()["choices"][0]["message"]["content"]
            except (ValueError, KeyError, IndexError, TypeError):
                return Completion(
                    job,
                    error=f"not a chat completion: {response.text[:200]}",
                    error_kind="request",
                    seconds=seconds,
                    retries=retry,
                )
            return Completion(job, text=text or "", seconds=seconds, retries=retry)
        return Completion(
            job,
            error=f"{last} ({self.max_retries + 1} tries)",
            error_kind="transient",
            seconds=time.perf_counter() - start,
            retries=self.max_retries,
        )


def _offer(results: queue.Queue, item: object, stop: threading.Event) -> None:
    """Put ``item`` for the consumer unless it has stopped listening."""
    while not stop.is_set():
        try:
            results.put(item, timeout=0.05)
            return
        except queue.Full:
            continue


class TransformersCaptioner:
    """Captioner on a local transformers vision-language model.

    Args:
        model_path: a checkpoint ``AutoModelForImageTextToText`` and ``AutoProcessor`` load
            (Qwen2-VL / Qwen2.5-VL family and processors taking ``videos`` + ``video_metadata``).
        device, dtype: where and how to run it.
        temperature: ``0`` for greedy decoding, else sampling seeded per attempt.
        num_frames, max_pixels: how each video is sampled (GVE's reader) and sized.
        batch_size: requests per ``generate`` call (left-padded).
    """

    def __init__(
        self,
        model_path: str,
        *,
        device: str = "cpu",
        dtype: str | None = None,
        temperature: float = 0.7,
        max_new_tokens: int = 1024,
        num_frames: int = 16,
        max_pixels: int = 360 * 420,
        batch_size: int = 1,
        seed: int = 0,
    ):
        import torch
        from transformers import AutoModelForImageTextToText, AutoProcessor

        self.name = f"transformers:{model_path}"
        self.processor = AutoProcessor.from_pretrained(model_path)
        self.processor.tokenizer.padding_side = "left"  # generation continues on the right
        torch_dtype = getattr(torch, dtype) if dtype else ("auto" if str(device).startswith("cuda") else torch.float32)
        self.model = AutoModelForImageTextToText.from_pretrained(model_path, dtype=torch_dtype).to(device).eval()
        self.device = device
        self.temperature, self.max_new_tokens = temperature, max_new_tokens
        self.num_frames, self.max_pixels = num_frames, max_pixels
        self.batch_size, self.seed = batch_size, seed

    def _load(self, job: Job) -> tuple[str, list, list, list]:
        content, images, videos, metadata = [], [], [], []
        for part in job.request.parts:
            if isinstance(part, str):
                content.append({"type": "text", "text": part})
            elif part.type == "image":
                content.append({"type": "image"})
                images.append(
                    read_image(part.path, min_pixels=4 * IMAGE_FACTOR * IMAGE_FACTOR, max_pixels=self.max_pixels)
                )
            else:
                content.append({"type": "video"})
                sampled = _frames_of(part.path, self.num_frames, self.max_pixels)
                videos.append(sampled.frames)  # (T, 3, H, W) uint8
                metadata.append(sampled.metadata)  # native fps + indices: right temporal positions
        prompt = self.processor.apply_chat_template(
            [{"role": "user", "content": content}], add_generation_prompt=True, tokenize=False
        )
        return prompt, images, videos, metadata

    def complete(self, jobs: Iterable[Job]) -> Iterator[Completion]:
        import torch

        batch: list[tuple[Job, tuple, float]] = []

        def flush() -> Iterator[Completion]:
            start = time.perf_counter()
            prompts = [loaded[0] for _, loaded, _ in batch]
            images = [i for _, loaded, _ in batch for i in loaded[1]]
            videos = [v for _, loaded, _ in batch for v in loaded[2]]
            metadata = [m for _, loaded, _ in batch for m in loaded[3]]
            inputs = self.processor(
                text=prompts,
                images=images or None,
                videos=videos or None,
                video_metadata=metadata or None,
                do_sample_frames=False,
                padding=True,
                return_tensors="pt",
            ).to(self.device)
            torch.manual_seed(batch[0][0].seed(self.seed))
            sample = self.temperature > 0
            with torch.inference_mode():
                output = self.model.generate(
                    **inputs,
                    max_new_tokens=self.max_new_tokens,
                    do_sample=sample,
                    temperature=self.temperature if sample else None,
                    top_p=None,
                    top_k=None,
                )
            texts = self.processor.batch_decode(output[:, inputs["input_ids"].shape[1] :], skip_special_tokens=True)
            seconds = (time.perf_counter() - start) / len(batch)
            for (job, _, load_seconds), text in zip(batch, texts):
                yield Completion(job, text=text, seconds=seconds + load_seconds)

        for job in jobs:
            start = time.perf_counter()
            try:
                loaded = self._load(job)
            except GVEInputError as err:
                yield Completion(job, error=f"media {err}", error_kind="input")
                continue
            batch.append((job, loaded, time.perf_counter() - start))
            if len(batch) == self.batch_size:
                yield from flush()
                batch = []
        if batch:
            yield from flush()


def build_captioner(args: CaptionerArguments, *, device: str = "cpu", seed: int = 0) -> Captioner:
    """The captioner the settings (`CaptionerArguments`) describe."""
    if args.captioner_backend == "openai":
        return OpenAICompatibleCaptioner(
            args.captioner_model,
            args.captioner_base_url,
            api_key=os.environ.get(args.captioner_api_key_env) or None,
            concurrency=args.captioner_concurrency,
            timeout=args.captioner_timeout,
            max_retries=args.captioner_request_retries,
            backoff=args.captioner_backoff,
            temperature=args.captioner_temperature,
            max_tokens=args.captioner_max_tokens,
            guided_json=args.captioner_guided_json,
            video_input=args.captioner_video_input,
            media_url=args.captioner_media_url,
            num_frames=args.captioner_num_frames,
            max_pixels=args.captioner_max_pixels,
            seed=seed,
        )
    if args.captioner_backend == "transformers":
        return TransformersCaptioner(
            args.captioner_model,
            device=str(device),
            dtype=args.captioner_dtype,
            temperature=args.captioner_temperature,
            max_new_tokens=args.captioner_max_tokens,
            num_frames=args.captioner_num_frames,
            max_pixels=args.captioner_max_pixels,
            batch_size=args.captioner_batch_size,
            seed=seed,
        )
    raise ValueError(f"captioner_backend must be 'openai' or 'transformers', got {args.captioner_backend!r}")


def settings_of(args: CaptionerArguments) -> dict:
    """The captioner settings its answers depend on (part of the results' folder name)."""
    keys = [
        "captioner_backend",
        "captioner_model",
        "captioner_temperature",
        "captioner_max_tokens",
        "captioner_video_input",
        "captioner_num_frames",
        "captioner_max_pixels",
        "captioner_guided_json",
        "word_range_tolerance",
    ]
    return {k: getattr(args, k) for k in keys}


__all__ = [
    "Captioner",
    "Completion",
    "Job",
    "OpenAICompatibleCaptioner",
    "TransformersCaptioner",
    "build_captioner",
    "settings_of",
    "strip_extensions",
]
