"""EmoXNet's members and EmoXNetLite trained by the one trainer: what only their training stages import
(the ensemble's combination rule lives in ``pipeline/ensemble``, so changing it retrains nothing)."""
