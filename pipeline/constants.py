"""Project-wide constants: the one class order and split names every module uses."""

# FER2013's label order; every reader maps its own labels onto this.
CLASS_NAMES: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
NUM_CLASSES: int = len(CLASS_NAMES)

# Split names, and their integer codes (the index) in prepared arrays.
SPLITS: tuple[str, ...] = ("train", "val", "test")
SPLIT_CODE: dict[str, int] = {name: code for code, name in enumerate(SPLITS)}

# ImageNet statistics, as the official ResEmoteNet code normalises its inputs.
IMAGENET_MEAN: tuple[float, float, float] = (0.485, 0.456, 0.406)
IMAGENET_STD: tuple[float, float, float] = (0.229, 0.224, 0.225)
