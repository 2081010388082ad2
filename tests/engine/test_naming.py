"""Node ids are safe wherever they end up: attributes, variables, weight keys."""

import pytest
import torch
import torch.fx

from engine.errors import NetworkError
from engine.naming import RESERVED, check_id, check_network_name, suggest_id


def test_reserved_names_cover_every_public_module_attribute():
    public = {n for n in dir(torch.fx.GraphModule) if not n.startswith("_")}
    assert public <= RESERVED, sorted(public - RESERVED)


def test_suggest_id_is_unique_and_valid():
    taken = {"linear1": 0, "linear2": 0}
    assert suggest_id("linear", taken) == "linear3"
    assert check_id(suggest_id("class", {})) == "class_1"
    assert check_id(suggest_id("to", {})) == "to_1"
    assert check_id(suggest_id("3d conv!", {})) == "n3d_conv1"


def test_network_names_are_plain_words():
    for name in ("model", "generator", "encoder-2", "D_net"):
        assert check_network_name(name) == name
    for name in ("", "2nd", "my model", 'm"""', "m\n", "m\u2028", "a" * 65, 3, None):
        with pytest.raises(NetworkError):
            check_network_name(name)


def test_a_final_newline_does_not_slip_into_an_id():
    with pytest.raises(NetworkError):
        check_id("fc1\n")
