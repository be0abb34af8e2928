"""Evaluation: labelled datasets, evaluators and runs."""
