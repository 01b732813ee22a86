import pytest
import torch
from torch import nn

from fervision.errors import FervisionError
from fervision.models import create_model
from fervision.models.efficientnet import imagenet_weights_file, load_imagenet_init


@pytest.fixture(scope="module")
def imagenet():
    try:
        path = imagenet_weights_file()
    except FervisionError as exc:
        pytest.skip(str(exc))
    return path, torch.load(path, map_location="cpu", weights_only=True)


def test_imagenet_init_loads_by_position_sums_the_stem_for_grey_and_zeroes_the_head(imagenet):
    path, weights = imagenet
    model = create_model("efficientnet_lite0", num_classes=8, in_chans=1)
    assert load_imagenet_init(model) == len(weights) - 2  # everything but the 1000-class head
    state = model.state_dict()
    assert torch.allclose(state["conv_stem.weight"], weights["_conv_stem.weight"].sum(dim=1, keepdim=True))
    assert torch.equal(state["bn2.running_var"], weights["_bn1.running_var"])
    head = model.get_submodule("classifier")
    assert isinstance(head, nn.Linear) and head.out_features == 8
    assert not head.weight.any() and not head.bias.any()  # a new head starts at zero
    rgb = create_model("efficientnet_lite0", num_classes=8, in_chans=3)
    load_imagenet_init(rgb, path)
    assert torch.equal(rgb.state_dict()["conv_stem.weight"], weights["_conv_stem.weight"])


def test_wrong_weights_file_is_one_sentence(tmp_path):
    bad = tmp_path / "other.pth"
    torch.save(create_model("mobilenetv3_small_100").state_dict(), bad)
    with pytest.raises(FervisionError, match="tensors, not the"):
        load_imagenet_init(create_model("efficientnet_lite0"), bad)
    with pytest.raises(FervisionError, match="No ImageNet weights file"):
        load_imagenet_init(create_model("efficientnet_lite0"), tmp_path / "missing.pth")
