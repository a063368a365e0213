"""Scanner artefacts on a synthetic volume, with MONAI's random intensity transforms.

In this order: a smooth multiplicative bias field (``RandBiasField``), a random gamma
(``RandAdjustContrast``, which rescales to the image's own range around the power law), then
Gaussian or Rician voxel noise (``RandGaussianNoise`` / ``RandRicianNoise``) with a standard
deviation drawn up to ``noise_std`` of the image's range. Every artefact has its own probability.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from monai.transforms import RandAdjustContrast, RandBiasField, RandGaussianNoise, RandRicianNoise
from torch import Tensor


@dataclass(frozen=True)
class Artefacts:
    """Artefact ranges and probabilities.

    Args:
        bias_coeff: maximum absolute coefficient of the degree-3 log-polynomial bias field (the
            coefficients are uniform in ``[-bias_coeff, bias_coeff]``: MONAI's default range of
            positive coefficients adds up to a factor of e^6 at the grid's corners).
        bias_prob: probability of a bias field.
        gamma: ``(low, high)`` range of the gamma exponent.
        gamma_prob: probability of a gamma change.
        noise_std: maximum noise standard deviation, as a fraction of the image's range.
        noise_prob: probability of noise (Gaussian or Rician, evenly).
    """

    bias_coeff: float = 0.1
    bias_prob: float = 0.8
    gamma: tuple[float, float] = (0.7, 1.5)
    gamma_prob: float = 0.5
    noise_std: float = 0.02
    noise_prob: float = 0.5

    def __call__(self, image: Tensor, rng: np.random.Generator) -> Tensor:
        """``(X, Y, Z)`` float32 image with artefacts, >= 0; seeds drawn from ``rng``."""
        seeds = rng.integers(0, 2**31 - 1, size=4).tolist()
        # Magnitudes are >= 0; a negative minimum would also shift the gamma's rescaled range.
        image = image.clamp_min(0)[None]
        bias = RandBiasField(
            degree=3, coeff_range=(-self.bias_coeff, self.bias_coeff), prob=self.bias_prob
        )
        bias.set_random_state(seeds[0])
        image = bias(image)
        gamma = RandAdjustContrast(prob=self.gamma_prob, gamma=tuple(self.gamma))
        gamma.set_random_state(seeds[1])
        image = gamma(image)
        if rng.uniform() < self.noise_prob:
            span = float(image.max() - image.min()) or 1.0
            std = span * self.noise_std
            noise = (
                RandRicianNoise(prob=1.0, std=std, sample_std=True)
                if seeds[2] % 2
                else RandGaussianNoise(prob=1.0, std=std, sample_std=True)
            )
            noise.set_random_state(seeds[3])
            image = noise(image)
        return torch.as_tensor(image[0]).float().clamp_min(0)
