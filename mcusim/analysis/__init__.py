"""Answers on top of runs: budgets and check, baselines, fit, does-not-fit."""
