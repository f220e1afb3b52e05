"""The one trainer (teacher, students, baselines), its losses, resumable checkpoints and soft targets."""
