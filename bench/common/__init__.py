"""What every benchmark shares: corpora, encoders, timing loops, memory and CPU readings, a served index,
results files."""
