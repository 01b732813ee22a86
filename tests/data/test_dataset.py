import pytest
import torch

from fervision.data import FaceTensors
from fervision.errors import DataError


def test_in_label_order_reindexes_labels_and_soft_targets():
    data = FaceTensors(torch.zeros(3, 1, 4, 4, dtype=torch.uint8), torch.tensor([0, 1, 1]), ("happy", "sad"),
                       soft=torch.tensor([[0.9, 0.1], [0.2, 0.8], [0.0, 1.0]]))
    ordered = data.in_label_order(["sad", "neutral", "happy"])
    assert ordered.label_names == ("sad", "neutral", "happy") and ordered.labels.tolist() == [2, 0, 0]
    assert torch.equal(ordered.soft[0], torch.tensor([0.1, 0.0, 0.9]))
    with pytest.raises(DataError, match="does not know: sad"):
        data.in_label_order(["happy"])
