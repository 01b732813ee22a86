import csv

import cv2
import numpy as np
import pytest

from fervision.data import load_ferplus, majority_labels, vote_distribution
from fervision.errors import DataError

from ..conftest import shared_path

# neutral, happiness, surprise, sadness, anger, disgust, fear, contempt, unknown, NF
VOTES = np.array(
    [
        [4, 0, 0, 1, 3, 2, 0, 0, 0, 0],  # neutral 4 of 9 (single vote dropped -> 4 of 9) -> dropped
        [6, 0, 1, 1, 0, 0, 0, 0, 2, 0],  # neutral 6 of 8 after outlier removal -> neutral
        [0, 9, 0, 0, 0, 0, 0, 0, 1, 0],  # happiness
        [0, 0, 0, 0, 0, 0, 0, 0, 7, 3],  # unknown wins -> dropped
        [1, 1, 1, 1, 1, 1, 1, 1, 1, 1],  # all single votes -> dropped
        [0, 0, 0, 0, 0, 0, 0, 5, 0, 2],  # contempt 5 of 7
    ],
    dtype=np.uint8,
)
EXPECTED = [-1, 0, 1, -1, -1, 7]


def test_majority_rule_by_hand():
    assert majority_labels(VOTES).tolist() == EXPECTED


def test_vote_distribution_sums_to_one_over_emotions():
    dist = vote_distribution(VOTES)
    assert dist.shape == (6, 8)
    assert np.allclose(dist[[0, 1, 2, 4, 5]].sum(1), 1)
    assert dist[3].sum() == 0  # only unknown / not-a-face votes


def _images(n):
    return (np.arange(n * 48 * 48) % 251).astype(np.uint8).reshape(n, 48, 48)


def test_npz_layout(tmp_path):
    np.savez(tmp_path / "train.npz", images=_images(6), votes_label_csv=VOTES)
    data = load_ferplus(tmp_path, "train", soft_labels=True)
    assert data.labels.tolist() == [0, 1, 7]
    assert data.images.shape == (3, 1, 48, 48)
    assert data.soft is not None and data.soft.shape == (3, 8)
    assert data.info["dropped"] == 3


def test_microsoft_folder_layout(tmp_path):
    folder = tmp_path / "FER2013Valid"
    folder.mkdir()
    with open(folder / "label.csv", "w", newline="") as f:
        w = csv.writer(f)
        for i, (img, votes) in enumerate(zip(_images(6), VOTES, strict=True)):
            cv2.imwrite(str(folder / f"fer{i:07d}.png"), img)
            w.writerow([f"fer{i:07d}.png", "(0, 0, 48, 48)", *votes.tolist()])
    data = load_ferplus(tmp_path, "valid")
    assert data.labels.tolist() == [0, 1, 7]
    assert np.array_equal(data.images[0, 0].numpy(), _images(6)[1])


def test_original_fer2013_csv_layout(tmp_path):
    header = ["Usage", "Image name", "neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear",
              "contempt", "unknown", "NF"]
    usages = ["PrivateTest"] * 5 + ["Training"]
    with (open(tmp_path / "fer2013.csv", "w", newline="") as f_img,
          open(tmp_path / "fer2013new.csv", "w", newline="") as f_lab):
        wi, wl = csv.writer(f_img), csv.writer(f_lab)
        wi.writerow(["emotion", "pixels", "Usage"])
        wl.writerow(header)
        for i, (img, votes, usage) in enumerate(zip(_images(6), VOTES, usages, strict=True)):
            wi.writerow([0, " ".join(map(str, img.flatten())), usage])
            wl.writerow([usage, f"fer{i:07d}.png" if i != 2 else "", *votes.tolist()])
    test = load_ferplus(tmp_path, "test")
    assert test.labels.tolist() == [0]  # row 2 has no image name (FERPlus dropped it)
    assert load_ferplus(tmp_path, "train").labels.tolist() == [7]
    with open(tmp_path / "fer2013.csv", "a", newline="") as f_img:  # a face without its votes row
        csv.writer(f_img).writerow([0, " ".join(["0"] * 48 * 48), "PrivateTest"])
    with pytest.raises(DataError, match="different numbers of rows"):
        load_ferplus(tmp_path, "test")


def test_missing_or_unknown_layout_is_one_clear_error(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_ferplus(tmp_path / "nope", "train")
    with pytest.raises(DataError, match="holds no FERPlus data"):
        load_ferplus(tmp_path, "train")
    with pytest.raises(DataError, match="splits"):
        load_ferplus(tmp_path, "training")


def test_shared_ferplus_reproduces_the_papers_split_sizes():
    root = shared_path("data", "ferplus")
    sizes = {split: len(load_ferplus(root, split)) for split in ("train", "valid", "test")}
    assert sizes == {"train": 25045, "valid": 3191, "test": 3137}
    test = load_ferplus(root, "test")
    assert test.class_counts() == [1083, 892, 394, 382, 269, 16, 86, 15]
    with np.load(root / "test.npz") as z:
        assert np.array_equal(majority_labels(z["votes_label_csv"]), z["y_ms_majority_labelcsv"])
