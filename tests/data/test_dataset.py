import pytest
import torch

from fervision.data import FaceTensors, list_datasets, load_dataset
from fervision.errors import DataError


def test_in_label_order_reindexes_labels_and_soft_targets():
    data = FaceTensors(torch.zeros(3, 1, 4, 4, dtype=torch.uint8), torch.tensor([0, 1, 1]), ("happy", "sad"),
                       soft=torch.tensor([[0.9, 0.1], [0.2, 0.8], [0.0, 1.0]]))
    ordered = data.in_label_order(["sad", "neutral", "happy"])
    assert ordered.label_names == ("sad", "neutral", "happy") and ordered.labels.tolist() == [2, 0, 0]
    assert ordered.soft is not None and torch.equal(ordered.soft[0], torch.tensor([0.1, 0.0, 0.9]))
    with pytest.raises(DataError, match="does not know: sad"):
        data.in_label_order(["happy"])


def test_list_datasets_is_what_load_dataset_dispatches_on(tmp_path):
    assert list_datasets() == ["ferplus", "rafdb", "folder"]  # the CLI's --dataset choices, its default first
    for name in list_datasets():  # each reaches its loader, which refuses the missing folder in its own words
        with pytest.raises(DataError) as err:
            load_dataset(name, tmp_path / "missing", "train")
        assert "unknown dataset" not in str(err.value)
    with pytest.raises(DataError, match="unknown dataset 'affectnet'; choose from ferplus, rafdb, folder"):
        load_dataset("affectnet", tmp_path, "train")
