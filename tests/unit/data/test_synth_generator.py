"""The synthetic volume generator of data=synth: its image is the sampled tissue mixture of its
own (deformed) labels, and it is a function of its seed. On the anatomy block-averaged 4-fold."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from srmri.data.synth import TISSUES, SynthGenerator, mni152_anatomy
from srmri.data.synth.contrast import sample_contrast

DOWNSAMPLE = 4
NO_SPREAD = {"spread_range": [0.0, 0.0]}
STRONG = {"rotate": 0.3, "scale": 0.15, "translate": 3.0, "elastic": 2.0, "spacing": 6}


@pytest.fixture(scope="module")
def anatomy():
    return mni152_anatomy(DOWNSAMPLE)


def mixture(fractions: torch.Tensor, means: np.ndarray) -> np.ndarray:
    """sum_k f_k * mu_k, in float64 NumPy."""
    return np.tensordot(means, fractions.double().numpy(), axes=1)


def test_the_anatomy_holds_partial_volume_fractions_of_four_tissues(anatomy):
    fractions = anatomy.fractions.numpy()
    assert fractions.shape[0] == len(TISSUES) == 4
    assert fractions.min() >= 0
    np.testing.assert_allclose(fractions.sum(0), 1.0, atol=1e-5)
    # Every brain tissue is present, and the brain is a sizeable part of the grid.
    assert (fractions[1:] > 0.5).sum(axis=(1, 2, 3)).min() > 100
    assert 0.1 < (fractions[0] < 0.5).mean() < 0.5


def test_without_spread_the_image_is_the_mixture_of_the_sampled_means(anatomy):
    generator = SynthGenerator(anatomy, real_fraction=0.0, contrast=NO_SPREAD)
    volume = generator(3)
    expected = mixture(volume.fractions, volume.contrast.means)
    np.testing.assert_allclose(volume.image.numpy(), expected, atol=1e-5)


def test_tissue_means_and_spreads_follow_the_sampled_mixture(anatomy):
    # Means well above 0: the generator clips negative intensities, which would bias dark tissues.
    contrast = {
        "spread_range": [0.02, 0.05],
        "mean_range": [0.2, 1.0],
        "background_range": [0.2, 0.3],
    }
    volume = SynthGenerator(anatomy, real_fraction=0.0, contrast=contrast)(7)
    fractions = volume.fractions.double().numpy().reshape(len(TISSUES), -1).T
    image = volume.image.double().numpy().ravel()
    # Least squares of the image on the label maps recovers the tissue means (texture averages out).
    means, *_ = np.linalg.lstsq(fractions, image, rcond=None)
    np.testing.assert_allclose(means, volume.contrast.means, atol=0.01)
    # In voxels of one tissue only, the intensity's spread is the tissue's.
    for k in range(len(TISSUES)):
        pure = fractions[:, k] > 0.999
        if pure.sum() > 500:
            spread = image[pure].std()
            assert spread == pytest.approx(volume.contrast.spreads[k], rel=0.2), TISSUES[k]


def test_a_deformation_moves_labels_and_image_together(anatomy):
    generator = SynthGenerator(anatomy, real_fraction=0.0, contrast=NO_SPREAD, deformation=STRONG)
    volume = generator(11)
    moved = mixture(volume.fractions, volume.contrast.means)
    unmoved = mixture(anatomy.fractions, volume.contrast.means)
    image = volume.image.numpy()
    # The image is the mixture of the deformed labels, not of the template's.
    np.testing.assert_allclose(image, moved, atol=1e-5)
    assert np.abs(image - unmoved).mean() > 20 * np.abs(image - moved).mean() + 1e-3
    np.testing.assert_allclose(volume.fractions.sum(0).numpy(), 1.0, atol=1e-5)


def test_the_deformed_real_t1_stays_on_its_deformed_labels(anatomy):
    volume = SynthGenerator(anatomy, real_fraction=1.0, deformation=STRONG)(11)
    assert volume.real
    image, fractions = volume.image.numpy(), volume.fractions.numpy()
    # T1 contrast on the deformed labels: white matter > grey matter > CSF > background.
    tissue_means = [image[fractions[k] > 0.7].mean() for k in range(len(TISSUES))]
    background, csf, gm, wm = tissue_means
    assert wm > gm + 0.1 > csf + 0.1 and csf > background
    # And the deformed brain mask holds the bright voxels of the deformed T1.
    bright = image > 0.3
    assert volume.mask.numpy()[bright].mean() > 0.95


def test_a_seed_gives_one_volume_and_other_seeds_other_contrasts(anatomy):
    generator = SynthGenerator(
        anatomy, deformation=STRONG, artefacts={"noise_prob": 1.0, "bias_prob": 1.0}
    )
    first, again, other = generator(5), generator(5), generator(6)
    assert torch.equal(first.image, again.image)
    assert torch.equal(first.fractions, again.fractions)
    np.testing.assert_array_equal(first.contrast.means, again.contrast.means)
    assert not np.allclose(first.contrast.means, other.contrast.means, atol=0.05)
    assert (first.image - other.image).abs().mean() > 0.02


def test_contrasts_cover_opposite_orderings():
    rng = np.random.default_rng(0)
    means = np.array([sample_contrast(rng, len(TISSUES)).means for _ in range(20)])
    # Bright-CSF (T2-like) and dark-CSF (T1-like) contrasts both occur.
    assert (means[:, 1] > means[:, 3]).any() and (means[:, 1] < means[:, 3]).any()


def test_bad_real_fraction_is_refused(anatomy):
    with pytest.raises(ValueError, match="real_fraction"):
        SynthGenerator(anatomy, real_fraction=1.5)


def test_artefacts_keep_the_brain_visible(anatomy):
    # Every artefact on: a bias field, a gamma and noise must change the image, not erase it.
    always = {"bias_prob": 1.0, "gamma_prob": 1.0, "noise_prob": 1.0}
    generator = SynthGenerator(anatomy, real_fraction=0.0, artefacts=always)
    clean = SynthGenerator(anatomy, real_fraction=0.0)
    for seed in range(12):
        image, reference = generator(seed).image.numpy(), clean(seed).image.numpy()
        brain = generator(seed).mask.numpy()
        assert np.median(image[brain]) > 0.05 * image.max(), seed
        assert np.corrcoef(image[brain], reference[brain])[0, 1] > 0.5, seed
