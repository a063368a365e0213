"""Test-time flips: the averaged estimate equals the mean of independently flipped predictions."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from srmri.isotropic.apply import super_resolve
from srmri.models.one_axis import OneAxisSR


def _network(factor: float) -> OneAxisSR:
    torch.manual_seed(0)
    network = OneAxisSR(factor, n_blocks=1, n_feats=4).eval()
    # The residual init zeroes the last layer (output = the flip-symmetric B-spline); give it
    # weights so that the network is not flip-equivariant and the flips change its estimate.
    torch.nn.init.normal_(network.conv_last.weight, std=0.5)
    return network


def _planes_estimate(network, volume: np.ndarray, axis: int, flips: list[tuple[int, ...]]):
    """Hand computation: for each family of planes through ``axis``, run each plane (rows = the
    slice axis) flipped by each entry of ``flips`` (NumPy), flip back, average; mean of the two
    families, in voxel order."""
    families = []
    for held in (a for a in range(3) if a != axis):
        other = next(a for a in range(3) if a not in (axis, held))
        planes = np.transpose(volume, (held, axis, other))
        outputs = []
        for dims in flips:
            flipped = np.flip(planes, [d + 1 for d in dims]) if dims else planes
            with torch.no_grad():
                out = network(torch.from_numpy(flipped.copy())[:, None]).numpy()[:, 0]
            outputs.append(np.flip(out, [d + 1 for d in dims]) if dims else out)
        families.append(np.transpose(np.mean(outputs, axis=0), np.argsort((held, axis, other))))
    return np.mean(families, axis=0)


@pytest.mark.parametrize(("axis", "factor"), [(2, 3.0), (0, 2.5)])
def test_flipped_estimate_is_the_mean_of_flipped_predictions(axis, factor, one_thread):
    rng = np.random.default_rng(1)
    shape = [9, 11, 13]
    shape[axis] = 6
    volume = rng.random(shape).astype(np.float32)
    network = _network(factor)
    got = super_resolve(torch.from_numpy(volume), axis, network, batch_size=4, flips=True).numpy()
    # Flips over (rows = slice axis, columns = in-plane axis) of each plane: none, rows, cols, both.
    expected = _planes_estimate(network, volume, axis, [(), (0,), (1,), (0, 1)])
    np.testing.assert_allclose(got, expected, rtol=0, atol=2e-6)
    plain = super_resolve(torch.from_numpy(volume), axis, network, batch_size=4).numpy()
    np.testing.assert_allclose(plain, _planes_estimate(network, volume, axis, [()]), atol=2e-6)
    # The flips matter for this network: the two estimates differ.
    assert np.abs(got - plain).max() > 1e-3
