"""`analyze`: emotion timelines from usability-test recordings with an exported (ONNX) student.

Decoding and fixed-rate sampling (sources), Haar face detection (detect), an IoU tracker that
keeps the participant (track), smoothing with hysteresis (smooth), tasks and baseline (tasks),
per-task tables and moments (segments), figures (plots), the HTML report (report) and the files
written (outputs); `run` ties them. The model itself is applied, and ``--model`` resolved, by
:mod:`pipeline.export.classifier` and :mod:`pipeline.export.resolve`: every consumer of an exported
model (``evaluate-folder``, the release card) shares them.
"""
