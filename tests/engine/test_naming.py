"""Node ids are safe wherever they end up: attributes, variables, weight keys."""

import torch
import torch.fx

from engine.naming import RESERVED, check_id, suggest_id


def test_reserved_names_cover_every_public_module_attribute():
    public = {n for n in dir(torch.fx.GraphModule) if not n.startswith("_")}
    assert public <= RESERVED, sorted(public - RESERVED)


def test_suggest_id_is_unique_and_valid():
    taken = {"linear1": 0, "linear2": 0}
    assert suggest_id("linear", taken) == "linear3"
    assert check_id(suggest_id("class", {})) == "class_1"
    assert check_id(suggest_id("to", {})) == "to_1"
    assert check_id(suggest_id("3d conv!", {})) == "n3d_conv1"
