"""EmoXNet: an ensemble of different architectures, combined on their softmax outputs, used as a teacher."""
