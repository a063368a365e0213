import torch

from srmri.degradation import Degradation
from srmri.evaluation.methods import baseline
from srmri.evaluation.reach import reach


def brute_force_support(pipeline, scale: int, size: int = 48) -> int:
    """Largest Chebyshev distance between an HR pixel and an SR pixel it changes, by perturbation."""
    base = torch.full((1, 1, size, size), 0.5, dtype=torch.float64)
    centre = size // 2
    batch = base.repeat(size * size, 1, 1, 1)
    batch.view(size * size, -1)[torch.arange(size * size), torch.arange(size * size)] += 0.01
    with torch.no_grad():
        changed = (pipeline(batch) - pipeline(base)).abs() > 1e-12
    worst = 0
    for q in range(size * size):
        qr, qc = divmod(q, size)
        if abs(qr - centre) > size // 4 or abs(qc - centre) > size // 4:
            continue  # far from the border, where padding would cut the support short
        rows, cols = torch.nonzero(changed[q, 0], as_tuple=True)
        distance = torch.maximum((rows - qr).abs(), (cols - qc).abs())
        worst = max(worst, int(distance.max()))
    return worst


def test_exact_reach_covers_the_true_support_of_degradation_and_bicubic():
    scale = 2
    degradation = Degradation(scale=scale)
    bicubic = baseline("bicubic", scale)

    def pipeline(hr):
        return bicubic.upscale(degradation(hr))

    true = brute_force_support(pipeline, scale)
    measured = reach(lambda hr: pipeline(hr.double()).float(), scale, tolerance=0.0, largest=512)
    assert true <= measured <= true + scale - 1


def test_a_tolerance_shrinks_the_reach_and_a_network_reaches_further():
    scale = 2
    degradation = Degradation(scale=scale)
    bicubic = baseline("bicubic", scale)
    exact = reach(lambda hr: bicubic.upscale(degradation(hr)), scale, 0.0, largest=512)
    loose = reach(lambda hr: bicubic.upscale(degradation(hr)), scale, 0.05, largest=512)
    assert loose < exact
    torch.manual_seed(0)
    convs = torch.nn.Sequential(*[torch.nn.Conv2d(1, 1, 3, padding=1) for _ in range(6)])
    deeper = reach(lambda hr: convs(bicubic.upscale(degradation(hr))), scale, 0.0, largest=512)
    assert deeper >= exact + 5
