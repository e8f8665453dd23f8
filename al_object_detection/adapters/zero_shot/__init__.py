"""OWLv2 zero-shot bootstrap: weights, tokenizer, prompts, engine and post-processing."""
