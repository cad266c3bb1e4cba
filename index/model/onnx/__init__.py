"""The model on ONNX Runtime: its graph written from the weights (graph.py), where the weights come from (sources.py), the encoder (encoder.py)."""
