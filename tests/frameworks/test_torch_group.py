"""TorchGroup: torch.distributed's default group, with ChainerMN's bcast_obj."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
import torch.distributed as dist  # noqa: E402

from slacknb.core.ranks import detect_rank  # noqa: E402
from slacknb.frameworks.torch_group import TorchGroup, torch_group  # noqa: E402


def test_no_group_without_init_process_group():
    assert not dist.is_initialized()
    assert torch_group() is None


def test_an_initialised_group_is_a_communicator(tmp_path):
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1)
    try:
        group = torch_group()
        assert isinstance(group, TorchGroup) and (group.rank, group.size) == (0, 1)
        assert group.bcast_obj({"channel": "C0", "ts": "1.2"}, root=0) == {"channel": "C0", "ts": "1.2"}
        rank = detect_rank(group)
        assert rank.owner and rank.source == "comm"
    finally:
        dist.destroy_process_group()
