"""Self-ensemble: the mean of the 8 dihedral transforms, undone, against a NumPy computation."""

import numpy as np
import torch
from torch.nn.utils import parametrize

from srmri.inference import predict_volume
from srmri.inference.ensemble import DIHEDRAL, dihedral, predict_self_ensemble, undo_dihedral
from tests.volumes import affine_for, nifti, smooth_volume


def numpy_self_ensemble(network, lr: np.ndarray) -> np.ndarray:
    """Rotate by 0, 90, 180, 270 degrees, each with and without a mirror, predict, undo, average."""
    outputs = []
    for turns in range(4):
        for mirror in (False, True):
            x = np.rot90(lr, turns, axes=(-2, -1))
            x = x[..., ::-1] if mirror else x
            with torch.inference_mode():
                y = network(torch.from_numpy(x.copy())).numpy()
            y = y[..., ::-1] if mirror else y
            outputs.append(np.rot90(y, -turns, axes=(-2, -1)))
    return np.mean(outputs, axis=0)


def test_the_eight_transforms_are_distinct_and_undone():
    image = torch.arange(12.0).reshape(1, 1, 3, 4)
    transformed = [dihedral(image, turns, flip) for turns, flip in DIHEDRAL]
    assert len({tuple(t.flatten().tolist()) + tuple(t.shape) for t in transformed}) == 8
    for (turns, flip), t in zip(DIHEDRAL, transformed, strict=True):
        assert torch.equal(undo_dihedral(t, turns, flip), image)


def test_self_ensemble_matches_a_numpy_computation(tiny_module):
    network = tiny_module.network
    lr = np.random.default_rng(0).uniform(0, 1, (2, 1, 9, 13)).astype(np.float32)
    with torch.inference_mode(), parametrize.cached():
        ensemble = predict_self_ensemble(network, torch.from_numpy(lr)).numpy()
        single = network(torch.from_numpy(lr)).numpy()
    expected = numpy_self_ensemble(network, lr)
    np.testing.assert_allclose(ensemble, expected, atol=1e-6)
    assert np.abs(ensemble - single).max() > 1e-3


def test_predict_volume_self_ensemble_end_to_end(tiny_module):
    volume = smooth_volume((12, 10, 3), seed=5)
    image = nifti(volume, affine_for("RAS"))
    out = predict_volume(
        image, tiny_module, self_ensemble=True, tile=None, precision="float32", progress=False
    )
    lo, hi = np.percentile(volume, [0.5, 99.5])
    for k in range(volume.shape[2]):
        lr = np.clip((volume[:, :, k] - lo) / (hi - lo), 0, 1)[None, None].astype(np.float32)
        sr = np.clip(numpy_self_ensemble(tiny_module.network, lr)[0, 0], 0, 1)
        np.testing.assert_allclose(
            out.get_fdata()[:, :, k], sr * (hi - lo) + lo, rtol=0, atol=1e-4 * (hi - lo)
        )
