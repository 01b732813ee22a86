import cv2
import numpy as np
import pytest

from fervision.data import load_dataset, load_image_folder, load_rafdb
from fervision.errors import DataError
from fervision.labels import RAFDB_LABELS


def _build_rafdb(root, n_train=5, n_test=3):
    base = root / "basic"
    (base / "EmoLabel").mkdir(parents=True)
    (base / "Image" / "aligned").mkdir(parents=True)
    lines = []
    for split, n in (("train", n_train), ("test", n_test)):
        for i in range(1, n + 1):
            name = f"{split}_{i:05d}"
            label = (i % 7) + 1
            img = np.full((100, 100, 3), 0, np.uint8)
            img[..., 2] = 30 * label  # red channel encodes the label (BGR on disk)
            cv2.imwrite(str(base / "Image" / "aligned" / f"{name}_aligned.jpg"), img)
            lines.append(f"{name}.jpg {label}")
    (base / "EmoLabel" / "list_patition_label.txt").write_text("\n".join(lines) + "\n")


def test_rafdb_official_layout(tmp_path):
    _build_rafdb(tmp_path)
    train = load_rafdb(tmp_path, "train")
    test = load_dataset("rafdb", tmp_path / "basic", "test")
    assert len(train) == 5 and len(test) == 3
    assert train.label_names == RAFDB_LABELS
    assert train.images.shape == (5, 3, 100, 100)
    # labels 1..7 become 0..6, and images are RGB (red channel first)
    assert train.labels.tolist() == [(i % 7) for i in range(1, 6)]
    assert abs(int(train.images[0, 0].float().mean()) - 30 * 2) <= 2


def test_rafdb_errors(tmp_path):
    with pytest.raises(DataError, match="not RAF-DB"):
        load_rafdb(tmp_path, "train")
    _build_rafdb(tmp_path)
    with pytest.raises(DataError, match="splits"):
        load_rafdb(tmp_path, "valid")
    (tmp_path / "basic" / "Image" / "aligned" / "train_00001_aligned.jpg").unlink()
    with pytest.raises(DataError, match="cannot be read"):
        load_rafdb(tmp_path, "train")


def test_image_folder(tmp_path):
    for label, value in (("happy", 200), ("sad", 50)):
        (tmp_path / "train" / label).mkdir(parents=True)
        for i in range(3):
            cv2.imwrite(str(tmp_path / "train" / label / f"{i}.png"), np.full((30, 40), value, np.uint8))
    data = load_image_folder(tmp_path, "train", size=24, grey=True)
    assert data.label_names == ("happy", "sad")
    assert data.images.shape == (6, 1, 24, 24)
    assert data.labels.tolist() == [0, 0, 0, 1, 1, 1]
    reordered = load_image_folder(tmp_path, "train", size=24, label_names=("sad", "happy"))
    assert reordered.label_names == ("sad", "happy") and reordered.channels == 3
    sad = reordered.images[reordered.labels == 0].float().mean()
    happy = reordered.images[reordered.labels == 1].float().mean()
    assert sad < 60 < 190 < happy
    with pytest.raises(DataError, match="missing"):
        load_image_folder(tmp_path, "train", label_names=("happy", "angry"))


def test_hidden_folders_are_not_classes(tmp_path):
    """A notebook's .ipynb_checkpoints/ (or .git/) beside the class folders is no class (and no checkpoint label)."""
    for folder in ("happy", ".ipynb_checkpoints"):
        (tmp_path / folder).mkdir()
        cv2.imwrite(str(tmp_path / folder / "0.png"), np.full((30, 40), 200, np.uint8))
    data = load_image_folder(tmp_path)
    assert data.label_names == ("happy",) and len(data) == 1


def test_flat_image_folder_is_a_train_split_only(tmp_path):
    """Read again as `valid`, a flat folder would have validated on the training faces."""
    (tmp_path / "happy").mkdir()
    cv2.imwrite(str(tmp_path / "happy" / "0.png"), np.full((30, 40), 200, np.uint8))
    assert len(load_image_folder(tmp_path, "train")) == len(load_image_folder(tmp_path)) == 1
    with pytest.raises(DataError, match="no valid/ folder"):
        load_image_folder(tmp_path, "valid")


def test_rafdb_and_folders_load_grey_on_request(tmp_path):
    _build_rafdb(tmp_path / "raf")
    grey = load_dataset("rafdb", tmp_path / "raf", "train", size=24, grey=True)
    assert grey.images.shape[1:] == (1, 24, 24)
    assert abs(float(grey.images[0].float().mean()) - 0.299 * 30 * 2) <= 2  # luma of the red-coded label
