"""Build and store: ingest, paragraphs, tokenizer, Whoosh and FAISS stores."""
