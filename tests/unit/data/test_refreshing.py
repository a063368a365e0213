"""RefreshingPatches routes every sample key to its block's patches, in the keys' order."""

from __future__ import annotations

import torch

from srmri.data.refreshing import RefreshingPatches


class KeyPatches:
    """Stand-in for TrainPatches: a patch is (block, key)."""

    def __init__(self, block: int) -> None:
        self.block = block

    def __getitems__(self, keys):
        return {"hr": torch.tensor([[self.block, key] for key in keys])}


def test_keys_go_to_their_block_in_order_and_each_block_is_made_once():
    made = []

    def make(block):
        made.append(block)
        return KeyPatches(block)

    dataset = RefreshingPatches(make, block_size=4, samples_per_epoch=12)
    batch = dataset.__getitems__([2, 3, 4, 5])  # straddles blocks 0 and 1
    assert batch["hr"].tolist() == [[0, 2], [0, 3], [1, 4], [1, 5]]
    assert dataset.__getitems__([6, 7])["hr"].tolist() == [[1, 6], [1, 7]]
    assert dataset[9]["hr"].tolist() == [2, 9]
    assert made == [0, 1, 2]
    # Out of order keys (a shuffled batch) keep their order.
    assert dataset.__getitems__([9, 1])["hr"].tolist() == [[2, 9], [0, 1]]


def test_the_first_block_can_be_handed_in_ready():
    dataset = RefreshingPatches(lambda block: KeyPatches(block), 4, 8, first=KeyPatches(-5))
    assert dataset.__getitems__([0])["hr"].tolist() == [[-5, 0]]
    assert dataset.__getitems__([4])["hr"].tolist() == [[1, 4]]
