import numpy as np
import pytest

from srmri.data.sampling import EpochSampler, sample_uniforms


def test_uniforms_depend_only_on_seed_key_and_stream():
    all_keys = sample_uniforms(3, np.arange(1000), 4)
    picked = sample_uniforms(3, np.array([999, 5, 17]), 4)
    np.testing.assert_array_equal(picked, all_keys[[999, 5, 17]])
    assert not np.array_equal(sample_uniforms(4, np.arange(1000), 4), all_keys)
    with pytest.raises(ValueError, match="keys must be >= 0"):
        sample_uniforms(0, np.array([-1]), 1)


def test_uniforms_are_uniform_and_uncorrelated():
    u = sample_uniforms(0, np.arange(200_000), 3)
    assert u.min() >= 0.0 and u.max() < 1.0
    counts = np.stack([np.histogram(u[:, s], bins=20, range=(0, 1))[0] for s in range(3)])
    expected = len(u) / 20
    chi2 = ((counts - expected) ** 2 / expected).sum(axis=1)
    assert chi2.max() < 50  # 19 degrees of freedom: p < 1e-4 beyond ~50
    assert np.abs(np.corrcoef(u.T) - np.eye(3)).max() < 0.01
    # Neighbouring keys are as unrelated as any two keys.
    assert abs(np.corrcoef(u[:-1, 0], u[1:, 0])[0, 1]) < 0.01


def test_epoch_sampler_keys_per_epoch_and_rank():
    sampler = EpochSampler(10)
    assert list(sampler) == list(range(10))
    sampler.set_epoch(3)
    assert list(sampler) == list(range(30, 40))
    ranks = [EpochSampler(10, rank, 3) for rank in range(3)]
    for s in ranks:
        s.set_epoch(2)
    keys = [list(s) for s in ranks]
    assert [len(k) for k in keys] == [len(s) for s in ranks] == [4, 3, 3]
    assert sorted(k for shard in keys for k in shard) == list(range(20, 30))
    with pytest.raises(ValueError, match="rank 3 is outside a world of 3"):
        EpochSampler(10, 3, 3)
