"""`analyze`: emotion timelines from usability-test recordings with an exported (ONNX) student.

Decoding and fixed-rate sampling (sources), Haar face detection (detect), an IoU tracker that
keeps the participant (track), batched ONNX Runtime inference (classify), smoothing with
hysteresis (smooth), tasks and baseline (tasks), per-task tables and moments (segments),
figures (plots), the HTML report (report) and the files written (outputs); `run` ties them.
"""
