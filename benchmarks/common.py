"""What the benchmark scripts (and the tests) share: Hydra configs, random HR patches, timing.

``benchmarks/results.py`` writes the figures into ``benchmarks/RESULTS.md``; everything else more
than one script needs is here, once: :func:`compose` (the configs as ``train.py`` /
``evaluate.py`` / ``predict.py`` get them), :class:`HRPatches` (fixed random HR patches served as a
training set) and :func:`time_runs` (wall-clock timing with warm-up and GPU work waited for).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

import torch
from hydra import compose as hydra_compose
from hydra import initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, open_dict
from torch import Tensor
from torch.utils.data import Dataset

ROOT = Path(__file__).resolve().parents[1]
CONF = ROOT / "conf"


def compose(
    config_name: str,
    overrides: Sequence[str] = (),
    *,
    return_hydra_config: bool = False,
    as_run: bool = False,
    config_dir: Path = CONF,
) -> DictConfig:
    """``conf/<config_name>.yaml`` (or ``config_dir``'s) with ``overrides``, as the command line
    would compose it.

    Outside a Hydra run nothing fills ``${hydra:...}`` values (the run directory, the experiment
    choice): callers override them, or keep the ``hydra`` node (``return_hydra_config``), or ask
    for ``as_run``: the Hydra config is then installed as the current one, as a run does, and
    dropped from the result.
    """
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(config_dir), version_base="1.3"):
        cfg = hydra_compose(
            config_name=config_name,
            overrides=list(overrides),
            return_hydra_config=return_hydra_config or as_run,
        )
    if as_run:
        HydraConfig.instance().set_config(cfg)
        with open_dict(cfg):
            del cfg["hydra"]
    return cfg


def random_patches(
    count: int, size: int, *, channels: int = 1, seed: int = 0, smooth: bool = False
) -> Tensor:
    """``(count, channels, size, size)`` random HR patches in [0, 1], the same for one ``seed``.

    ``smooth``: uniform noise on a grid 4 times coarser, upsampled bilinearly (image-like patches a
    tiny network can learn); otherwise uniform noise per pixel (enough for timing).
    """
    generator = torch.Generator().manual_seed(seed)
    if not smooth:
        return torch.rand(count, channels, size, size, generator=generator)
    coarse = torch.rand(count, channels, size // 4, size // 4, generator=generator)
    return torch.nn.functional.interpolate(coarse, size=(size, size), mode="bilinear")


class HRPatches(Dataset):
    """Fixed HR patches ``hr`` of shape ``(N, C, P, P)`` served as ``{"hr": (C, P, P)}`` items.

    Args:
        hr: the patches.
        repeats: the set is ``repeats`` passes over ``hr`` (a long epoch of few patches).
        mask_above: when given, each item also carries ``mask = hr > mask_above`` (a "brain" for
            the masked scores), and its ``slice`` index, ``subject`` and ``view``, as the data
            module's validation items do.
    """

    def __init__(self, hr: Tensor, repeats: int = 1, mask_above: float | None = None) -> None:
        self.hr, self.repeats, self.mask_above = hr, repeats, mask_above

    def __len__(self) -> int:
        return len(self.hr) * self.repeats

    def __getitem__(self, index: int) -> dict[str, Tensor | int | str]:
        index %= len(self.hr)
        item: dict[str, Tensor | int | str] = {"hr": self.hr[index]}
        if self.mask_above is not None:
            item.update(
                mask=self.hr[index] > self.mask_above, slice=index, subject="s", view="axial"
            )
        return item


def synchronize(device: torch.device) -> None:
    """Wait for queued GPU work so that wall-clock times cover it."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_runs(
    run: Callable[[], object], warmup: int, repeats: int, device: torch.device
) -> list[float]:
    """Seconds of each of ``repeats`` calls of ``run``, after ``warmup`` untimed calls.

    The first calls pay for allocation, kernel selection and weight packing, which a long
    prediction pays once, so they are left out.
    """
    for _ in range(warmup):
        run()
    synchronize(device)
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        synchronize(device)
        seconds.append(time.perf_counter() - start)
    return seconds
