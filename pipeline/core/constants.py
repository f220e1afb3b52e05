"""Constants that hold for every data source: split names and the input normalisation.

The class set is *not* here: it travels with the data (``PreparedData.class_names``), since
FER2013/RAF-DB have 7 classes and FER+ 8.
"""

# Split names, and their integer codes (the index) in prepared arrays.
SPLITS: tuple[str, ...] = ("train", "val", "test")
SPLIT_CODE: dict[str, int] = {name: code for code, name in enumerate(SPLITS)}

# ImageNet statistics, as the official ResEmoteNet code normalises its inputs.
IMAGENET_MEAN: tuple[float, float, float] = (0.485, 0.456, 0.406)
IMAGENET_STD: tuple[float, float, float] = (0.229, 0.224, 0.225)
